//! foster owns every signal it can: it blocks them all and reads them, one
//! at a time, from a signalfd(2). No handler ever runs, so nothing happens
//! "between" two lines of foster, and a blocking read(2) with no timeout
//! means foster sleeps until a signal comes: no wake-ups while idle (tini
//! wakes up every second to poll).

use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::AsFd;

// ANCHOR: take_over
/// Signals the kernel raises *because of* what the process just did (a bad
/// memory access, a division by zero, abort(3)). Blocking them is useless
/// or worse: sigprocmask(2) leaves a fault's signal that arrives blocked
/// undefined (Linux kills the process anyway), and if foster itself faults
/// it should die of it, loudly.
const SYNCHRONOUS: [Signal; 7] = [
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGFPE,
    Signal::SIGILL,
    Signal::SIGTRAP,
    Signal::SIGSYS,
    Signal::SIGABRT,
];

/// The signalfd foster reads, and the mask it found at start (the command
/// gets that mask back).
pub struct Signals {
    fd: SignalFd,
    pub original_mask: SigSet,
}

impl Signals {
    /// Blocks every signal but the synchronous ones, real-time signals
    /// included, and opens a signalfd for them. Must run before the command
    /// starts, so that not even its first SIGCHLD can be lost: a blocked
    /// signal stays pending until the signalfd is read.
    pub fn take_over() -> nix::Result<Signals> {
        let mut wanted = SigSet::all();
        for signal in SYNCHRONOUS {
            wanted.remove(signal);
        }
        let mut original_mask = SigSet::empty();
        sigprocmask(
            SigmaskHow::SIG_SETMASK,
            Some(&wanted),
            Some(&mut original_mask),
        )?;
        // A parent may have left SIGCHLD *ignored*, and that survives
        // execve(2). Then the kernel reaps foster's children itself and
        // their statuses are lost (wait(2), NOTES): foster would never
        // learn that the command exited. Back to the default action.
        // SAFETY: SIG_DFL installs no handler, so no code of ours can run
        // in a signal context.
        unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }?;
        let fd = SignalFd::with_flags(&wanted, SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd, original_mask })
    }
    // ANCHOR_END: take_over

    // ANCHOR: next
    /// Waits, as long as it takes, for the next signal and returns its
    /// number. Never fails: if the signalfd ever breaks, foster says so and
    /// falls back to checking for dead children once a second (as if a
    /// SIGCHLD had come), which keeps it reaping.
    pub fn next(&self) -> i32 {
        loop {
            match self.fd.read_signal() {
                Ok(Some(info)) => return info.ssi_signo as i32,
                Ok(None) | Err(Errno::EINTR) => continue,
                Err(error) => {
                    foster::log::say(format_args!(
                        "warning: reading the signalfd: {error}; polling every second"
                    ));
                    std::thread::sleep(Duration::from_secs(1));
                    return Signal::SIGCHLD as i32;
                }
            }
        }
    }
    // ANCHOR_END: next

    /// Like [`Signals::next`], but gives up after `timeout` (`None`): used
    /// while foster waits out the grace time.
    pub fn next_within(&self, timeout: Duration) -> Option<i32> {
        let millis = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => None,
            Ok(_) => Some(self.next()),
            // Interrupted or failing: let the caller look again.
            Err(_) => Some(Signal::SIGCHLD as i32),
        }
    }
}

// ANCHOR: send
/// Sends signal `number` to `pid` (a negative `pid` means that process
/// group, -1 every process we may signal: kill(2)). Takes a raw number,
/// because nix's `Signal` has no real-time signals and foster forwards
/// those too.
pub fn send(pid: i32, number: i32) -> nix::Result<()> {
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    let result = unsafe { libc::kill(pid, number) };
    Errno::result(result).map(drop)
}
// ANCHOR_END: send

/// A signal's name for messages: `SIGTERM`, `SIGRTMIN+3`, or its number.
pub fn name(number: i32) -> String {
    match Signal::try_from(number) {
        Ok(signal) => signal.as_str().to_string(),
        Err(_) if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&number) => {
            format!("SIGRTMIN+{}", number - libc::SIGRTMIN())
        }
        Err(_) => format!("signal {number}"),
    }
}

/// A signal's number from a name with or without `SIG`, in any case
/// (`TERM`, `sigterm`, `SIGRTMIN+2`), or from its number (`15`).
pub fn parse_signal(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(number) = text.parse::<i32>() {
        return (1..=libc::SIGRTMAX()).contains(&number).then_some(number);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    // Real-time signals by name: RTMIN, RTMIN+N, RTMAX, RTMAX-N.
    let realtime = |base: i32, offset: Option<&str>, sign: i32| -> Option<i32> {
        let offset: i32 = match offset? {
            "" => 0,
            digits => digits.parse().ok()?,
        };
        let number = base + sign * offset;
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&number)
            .then_some(number)
    };
    if let Some(rest) = bare.strip_prefix("RTMIN") {
        let offset = if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('+')
        };
        return realtime(libc::SIGRTMIN(), offset, 1);
    }
    if let Some(rest) = bare.strip_prefix("RTMAX") {
        let offset = if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('-')
        };
        return realtime(libc::SIGRTMAX(), offset, -1);
    }
    format!("SIG{bare}")
        .parse::<Signal>()
        .ok()
        .map(|s| s as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_signal("TERM"), Some(15));
        assert_eq!(parse_signal("sigkill"), Some(9));
        assert_eq!(parse_signal("10"), Some(10));
        assert_eq!(parse_signal("RTMIN+1"), Some(libc::SIGRTMIN() + 1));
        assert_eq!(parse_signal("SIGRTMAX"), Some(libc::SIGRTMAX()));
        assert_eq!(parse_signal("0"), None);
        assert_eq!(parse_signal("NOPE"), None);
        assert_eq!(parse_signal("RTMIN+x"), None);
        assert_eq!(parse_signal("RTMAX+1"), None);
        assert_eq!(parse_signal("RTMAX-1"), Some(libc::SIGRTMAX() - 1));
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(libc::SIGRTMIN() + 2), "SIGRTMIN+2");
    }
}
