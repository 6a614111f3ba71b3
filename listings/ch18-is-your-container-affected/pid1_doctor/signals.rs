//! Signals by name and number, and what a process does with one: the
//! signal masks of `/proc/PID/status` (proc(5)) read as a disposition.

use nix::sys::signal::Signal;

pub use crate::verdict::{signal_name as name, Disposition, RTMIN, SIGKILL, SIGTERM};
/// The last signal on Linux (`_NSIG - 1`, signal(7)).
const RTMAX: u32 = 64;

/// SIGSTOP's number: the other signal nothing can catch.
const SIGSTOP: u32 = 19;
/// SIGCHLD's number: ignoring it makes the kernel reap a process's children.
pub const SIGCHLD: u32 = 17;

/// A signal's number from the ways Docker and Podman accept it in
/// `STOPSIGNAL` and `--stop-signal`: `SIGTERM`, `TERM`, `term`, `15`,
/// `SIGRTMIN+3`, `RTMAX-2`. `Err` says why not.
pub fn parse(text: &str) -> Result<u32, String> {
    let word = text.trim();
    let refuse = || format!("'{word}' is not a signal");
    if let Ok(number) = word.parse::<u32>() {
        return (1..=RTMAX)
            .contains(&number)
            .then_some(number)
            .ok_or_else(refuse);
    }
    let upper = word.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(number) = real_time(bare) {
        return Ok(number);
    }
    format!("SIG{bare}")
        .parse::<Signal>()
        .map(|signal| signal as u32)
        .map_err(|_| refuse())
}

/// `RTMIN`, `RTMIN+N` and `RTMAX-N`, within the real-time range.
fn real_time(bare: &str) -> Option<u32> {
    let number = if let Some(rest) = bare.strip_prefix("RTMIN") {
        RTMIN.checked_add(offset(rest, '+')?)?
    } else if let Some(rest) = bare.strip_prefix("RTMAX") {
        RTMAX.checked_sub(offset(rest, '-')?)?
    } else {
        return None;
    };
    (RTMIN..=RTMAX).contains(&number).then_some(number)
}

/// The N of `+N` (or `-N`), 0 for nothing.
fn offset(rest: &str, sign: char) -> Option<u32> {
    match rest.strip_prefix(sign) {
        Some(digits) => digits.parse().ok(),
        None if rest.is_empty() => Some(0),
        None => None,
    }
}

/// The three signal masks of `/proc/PID/status` (proc(5)): bit N-1 stands
/// for signal N.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    /// `SigBlk`: blocked by the main thread (kept pending until unblocked,
    /// or taken with sigwait(3) or a signalfd(2)).
    pub blocked: u64,
    /// `SigIgn`: ignored (SIG_IGN).
    pub ignored: u64,
    /// `SigCgt`: caught by a handler.
    pub caught: u64,
    /// Not in the status file: the signals the main thread waits for in
    /// rt_sigtimedwait(2) (sigwait(3)) at the moment, if it does. While it
    /// waits, the kernel takes them out of the blocked mask, which is what
    /// `SigBlk` shows, and keeps the real mask aside (`real_blocked`, which
    /// sig_ignored in kernel/signal.c also reads), so tini, which waits
    /// this way, shows no blocked signal at all.
    pub awaited: u64,
}

/// Reads the masks from the text of a status file; `None` when one of
/// the three lines is missing or not hexadecimal.
pub fn masks(status: &str) -> Option<Masks> {
    let mask = |key: &str| {
        let line = status.lines().find_map(|l| l.strip_prefix(key))?;
        u64::from_str_radix(line.trim(), 16).ok()
    };
    Some(Masks {
        blocked: mask("SigBlk:")?,
        ignored: mask("SigIgn:")?,
        caught: mask("SigCgt:")?,
        awaited: 0,
    })
}

/// What `masks` say about `signal`. A handler counts first, then a block
/// or a wait (a blocked signal is kept even when its action is to ignore
/// it, since the process may change the action before it unblocks it).
pub fn disposition(masks: Masks, signal: u32) -> Disposition {
    // SIGKILL and SIGSTOP cannot be caught, blocked or ignored (signal(7)),
    // whatever a mask says.
    if signal == SIGKILL || signal == SIGSTOP {
        return Disposition::Default;
    }
    let Some(bit) = signal.checked_sub(1).and_then(|n| 1u64.checked_shl(n)) else {
        return Disposition::Default;
    };
    if masks.caught & bit != 0 {
        Disposition::Caught
    } else if masks.blocked & bit != 0 {
        Disposition::Blocked
    } else if masks.awaited & bit != 0 {
        Disposition::Awaited
    } else if masks.ignored & bit != 0 {
        Disposition::Ignored
    } else {
        Disposition::Default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_as_docker_takes_them() {
        for (text, number) in [
            ("SIGTERM", 15),
            ("TERM", 15),
            ("sigquit", 3),
            ("15", 15),
            ("SIGRTMIN+3", 37),
            ("RTMIN", 34),
            ("SIGRTMAX-2", 62),
            ("SIGKILL", 9),
        ] {
            assert_eq!(parse(text), Ok(number), "{text}");
        }
        for bad in ["", "0", "65", "SIGBOGUS", "RTMIN+31", "RTMIN-1", "RTMAX+1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(37), "SIGRTMIN+3");
        assert_eq!(name(34), "SIGRTMIN");
        assert_eq!(parse(&name(62)), Ok(62));
    }

    #[test]
    fn the_masks_of_a_status_file() {
        // Docker's tini in sigtimedwait: nothing blocked, SIGTTIN and
        // SIGTTOU ignored, and the set it waits for read apart.
        let status = "Name:\tdocker-init\nSigQ:\t2/96367\nSigPnd:\t0000000000000000\n\
                      SigBlk:\t0000000000000000\nSigIgn:\t0000000000300000\n\
                      SigCgt:\t0000000000000000\n";
        let mut tini = masks(status).expect("three masks");
        assert_eq!(disposition(tini, SIGTERM), Disposition::Default);
        tini.awaited = 0xfffffffe3fcffb07;
        assert_eq!(disposition(tini, SIGTERM), Disposition::Awaited);
        assert_eq!(disposition(tini, SIGKILL), Disposition::Default);
        assert_eq!(disposition(tini, 21), Disposition::Ignored);
        // sleep: nothing at all.
        let sleep = Masks::default();
        assert_eq!(disposition(sleep, SIGTERM), Disposition::Default);
        // A shell with a trap on TERM that ignores QUIT.
        let shell = Masks {
            blocked: 0,
            ignored: 1 << 2,
            caught: (1 << 14) | (1 << 16),
            awaited: 0,
        };
        assert_eq!(disposition(shell, SIGTERM), Disposition::Caught);
        assert_eq!(disposition(shell, 3), Disposition::Ignored);
        assert_eq!(disposition(shell, SIGCHLD), Disposition::Caught);
        assert!(Disposition::Awaited.is_heard() && !Disposition::Ignored.is_heard());
        assert_eq!(disposition(shell, 0), Disposition::Default);
        assert_eq!(masks("SigBlk:\tzz\n"), None);
    }
}
