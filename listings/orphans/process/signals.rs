//! How a process treats a signal, read from outside: its masks in
//! `/proc/PID/status`, and the set it waits for when it sleeps in
//! sigtimedwait(2). Chapter 17 reads PID 1 of each runtime with it.

use nix::sys::signal::Signal;

// ANCHOR: disposition
/// How a process treats one signal, as the kernel will when the signal
/// comes: read from `/proc/PID/status` (proc(5)), whose lines `SigBlk`,
/// `SigIgn` and `SigCgt` are masks in hexadecimal, bit N-1 for signal N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// A handler is installed (`SigCgt`): the signal runs it.
    Caught,
    /// Blocked and not caught (`SigBlk`): the kernel keeps it pending for
    /// the program to take (sigwait(3), signalfd(2)); never discarded.
    Blocked,
    /// Waited for: the process sleeps in sigtimedwait(2) (where
    /// sigwait(3) and sigwaitinfo(2) end up too) with the signal in the
    /// set it waits for. While it sleeps there, the kernel unblocks that
    /// set in the mask `SigBlk` shows and keeps the real one aside
    /// (`real_blocked`, do_sigtimedwait in kernel/signal.c), which it still
    /// consults before it discards anything (sig_ignored).
    Awaited,
    /// Set to SIG_IGN (`SigIgn`): discarded.
    Ignored,
    /// SIG_DFL: the default action, which for SIGTERM kills, except in
    /// the PID 1 of a namespace, where the kernel discards it (chapter 9).
    Default,
}

impl Disposition {
    /// How process `pid` treats `signal`; `None` when it is gone.
    pub fn of(pid: i32, signal: Signal) -> Option<Disposition> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let awaited = awaited_signals(pid).unwrap_or(0);
        Disposition::in_status(&status, awaited, signal)
    }

    /// How process `pid` treats signal `number` (1 to 64), real-time
    /// signals included, which [`Signal`] has no variant for (an image
    /// that runs systemd is stopped with `SIGRTMIN+3`, 37). `None` when
    /// the process is gone or the number is no signal.
    pub fn of_number(pid: i32, number: u32) -> Option<Disposition> {
        let bit = 1u64.checked_shl(number.checked_sub(1)?)?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Disposition::of_bit(&status, awaited_signals(pid).unwrap_or(0), bit)
    }

    /// [`Disposition::of`] on the text of a status file, and the set of
    /// signals the process waits for in sigtimedwait(2) (0 if none).
    pub fn in_status(status: &str, awaited: u64, signal: Signal) -> Option<Disposition> {
        Disposition::of_bit(status, awaited, 1u64 << (signal as i32 - 1))
    }

    /// [`Disposition::in_status`] for the signal whose mask bit is `bit`.
    fn of_bit(status: &str, awaited: u64, bit: u64) -> Option<Disposition> {
        let has = |key: &str| mask(status, key).map(|mask| mask & bit != 0);
        Some(if has("SigCgt")? {
            Disposition::Caught
        } else if has("SigBlk")? {
            Disposition::Blocked
        } else if awaited & bit != 0 {
            Disposition::Awaited
        } else if has("SigIgn")? {
            Disposition::Ignored
        } else {
            Disposition::Default
        })
    }
}
// ANCHOR_END: disposition

/// The signals process `pid` waits for, if it sleeps in
/// rt_sigtimedwait(2): `/proc/PID/syscall` names the system call it is in
/// and its arguments (proc(5)), the first of which points to the set, read
/// through `/proc/PID/mem`. Both need the right to ptrace(2) the process
/// (our own, or root); `None` without it, or in any other state.
fn awaited_signals(pid: i32) -> Option<u64> {
    use std::os::unix::fs::FileExt;
    let call = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut words = call.split_whitespace();
    let number: i64 = words.next()?.parse().ok()?;
    if number != libc::SYS_rt_sigtimedwait {
        return None;
    }
    let address = u64::from_str_radix(words.next()?.strip_prefix("0x")?, 16).ok()?;
    let memory = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    // The kernel's sigset_t on Linux: 64 bits, bit N-1 for signal N.
    let mut set = [0u8; 8];
    memory.read_exact_at(&mut set, address).ok()?;
    Some(u64::from_ne_bytes(set))
}

/// The mask after `KEY:` in a status file, read as hexadecimal.
fn mask(status: &str, key: &str) -> Option<u64> {
    let value = status
        .lines()
        .find_map(|line| line.split_once(':').filter(|(name, _)| *name == key))?
        .1;
    u64::from_str_radix(value.trim(), 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tpython3\nSigQ:\t0/96367\nSigPnd:\t0000000000000000\n\
        SigBlk:\t0000000000010000\nSigIgn:\t0000000001001000\nSigCgt:\t0000000000004002\n";

    #[test]
    fn the_masks_say_how_each_signal_is_treated() {
        // SIGHUP (bit 0) and SIGPIPE (bit 12) are awaited.
        let awaited = 0x1001;
        let of = |signal| Disposition::in_status(STATUS, awaited, signal);
        assert_eq!(of(Signal::SIGTERM), Some(Disposition::Caught));
        assert_eq!(of(Signal::SIGINT), Some(Disposition::Caught));
        assert_eq!(of(Signal::SIGCHLD), Some(Disposition::Blocked));
        assert_eq!(of(Signal::SIGHUP), Some(Disposition::Awaited));
        assert_eq!(of(Signal::SIGPIPE), Some(Disposition::Awaited));
        assert_eq!(of(Signal::SIGXFSZ), Some(Disposition::Ignored));
        assert_eq!(of(Signal::SIGUSR1), Some(Disposition::Default));
        assert_eq!(
            Disposition::in_status("Name:\tx\n", 0, Signal::SIGTERM),
            None
        );
    }

    #[test]
    fn an_ignored_sigterm_is_read_from_a_live_process() {
        // SIG_IGN survives execve(2); a handler does not (signal(7)).
        let mut sleeper = std::process::Command::new("sh")
            .args(["-c", "trap '' TERM; exec sleep 5"])
            .spawn()
            .expect("sh starts");
        let pid = sleeper.id() as i32;
        let mut seen = None;
        for _ in 0..250 {
            if orphans::process::procfs::comm(pid).as_deref() == Some("sleep") {
                seen = Disposition::of(pid, Signal::SIGTERM);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert_eq!(seen, Some(Disposition::Ignored));
        assert_eq!(Disposition::of(-1, Signal::SIGTERM), None);
        // By number: a real-time signal, and numbers that are no signal.
        let me = std::process::id() as i32;
        assert_eq!(Disposition::of_number(me, 37), Some(Disposition::Default));
        assert_eq!(Disposition::of_number(me, 0), None);
        assert_eq!(Disposition::of_number(me, 65), None);
    }

    #[test]
    fn a_signal_waited_for_in_sigwait_is_awaited_not_default() {
        use nix::sys::signal::{kill, SigSet};
        use nix::sys::wait::waitpid;
        use nix::unistd::{fork, ForkResult};
        let mut set = SigSet::empty();
        set.add(Signal::SIGUSR2);
        // SAFETY: the child only makes system calls (pthread_sigmask,
        // sigwait, _exit), all async-signal-safe (signal-safety(7)).
        let child = match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let _ = set.thread_block();
                let _ = set.wait();
                orphans::process::exit_now(0)
            }
            ForkResult::Parent { child } => child,
        };
        let mut seen = None;
        for _ in 0..250 {
            seen = Disposition::of(child.as_raw(), Signal::SIGUSR2);
            if seen == Some(Disposition::Awaited) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = kill(child, Signal::SIGKILL);
        let _ = waitpid(child, None);
        assert_eq!(seen, Some(Disposition::Awaited));
    }
}
