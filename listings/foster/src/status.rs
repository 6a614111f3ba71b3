//! Waiting for children, and what their wait status means: the project's
//! one decoder, used by foster, `subreaper`, `container` and `naive-init`.
//!
//! The kernel reports how a child ended as one integer, which the C
//! library's `W*` macros take apart (wait(2)); the libc crate has them as
//! functions of the same names. This module calls waitpid(2) and waitid(2)
//! itself and decodes that integer itself. nix's `waitpid` does the same
//! call but turns the signal number into its `Signal` type, which has no
//! real-time signals: for a child killed by signal 40 it returns EINVAL,
//! *after* the kernel has reaped the child, so the status is lost for good
//! and a parent waiting for it waits forever.

use std::fmt;

use foster::signals::name;
use nix::errno::Errno;

// ANCHOR: status
/// How a child changed state, from the raw status of waitpid(2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It called exit(2) with this code (0 to 255).
    Exited(i32),
    /// Signal `signal` (1 to 64, real-time ones included) ended it; the
    /// kernel may have written a core file first.
    Killed { signal: i32, core_dumped: bool },
    /// Stopped by a signal (SIGSTOP, SIGTSTP…): alive, not finished.
    Stopped(i32),
    /// Resumed by SIGCONT: alive, not finished.
    Continued,
}

impl Status {
    /// Decodes a raw status with the `W*` macros, in the order wait(2)
    /// lists them. Every integer decodes to something: there is no error.
    pub fn from_raw(raw: libc::c_int) -> Status {
        if libc::WIFEXITED(raw) {
            Status::Exited(libc::WEXITSTATUS(raw))
        } else if libc::WIFSIGNALED(raw) {
            Status::Killed {
                signal: libc::WTERMSIG(raw),
                core_dumped: libc::WCOREDUMP(raw),
            }
        } else if libc::WIFSTOPPED(raw) {
            Status::Stopped(libc::WSTOPSIG(raw))
        } else {
            Status::Continued
        }
    }

    /// The status a shell (and Docker) reports for a finished process: its
    /// exit code, or 128 + N when signal N ended it, core dump or not.
    /// `None` for a process that has only stopped or continued.
    pub fn shell_status(self) -> Option<i32> {
        match self {
            Status::Exited(code) => Some(code),
            // At most 128 + 64: WTERMSIG keeps 7 bits, so no overflow.
            Status::Killed { signal, .. } => Some(128 + signal),
            Status::Stopped(_) | Status::Continued => None,
        }
    }
}
// ANCHOR_END: status

/// For logs: "exited 3", "killed by SIGRTMIN+6 (core dumped)".
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Status::Exited(code) => write!(f, "exited {code}"),
            Status::Killed {
                signal,
                core_dumped,
            } => {
                let core = if core_dumped { " (core dumped)" } else { "" };
                write!(f, "killed by {}{core}", name(signal))
            }
            Status::Stopped(signal) => write!(f, "stopped by {}", name(signal)),
            Status::Continued => write!(f, "continued"),
        }
    }
}

/// A child that waitpid(2) reported, and its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaped {
    pub pid: i32,
    pub status: Status,
}

/// Whether [`reap`] may sleep until a child ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    Block,
    /// `WNOHANG`: answer at once, `Ok(None)` when no child has ended.
    NoHang,
}

// ANCHOR: reap
/// Reaps child `pid` (-1: any child) with waitpid(2) (as wait4(2)) and
/// decodes its status. `Err(ECHILD)` means there is no such child at all.
///
/// No `WUNTRACED` and no `WCONTINUED`: without them the kernel reports
/// only children that have *ended* (wait(2)), so a child that is stopped
/// and continued never shows up here and cannot be taken for dead. Callers
/// still check [`Status::shell_status`], which is `None` for those.
/// `__WALL` also takes children whose exit signal is not SIGCHLD (made by
/// clone(2)), which would otherwise stay zombies.
pub fn reap(pid: i32, wait: Wait) -> Result<Option<Reaped>, Errno> {
    let reaped = reap_raw(pid, wait)?;
    Ok(reaped.map(|(pid, raw)| Reaped {
        pid,
        status: Status::from_raw(raw),
    }))
}

/// [`reap`], with the status as the kernel gave it, for a caller that
/// decodes it only when it needs it: an init reaping orphans needs only
/// their PIDs.
#[inline(always)]
pub fn reap_raw(pid: i32, wait: Wait) -> Result<Option<(i32, libc::c_int)>, Errno> {
    let flags = match wait {
        Wait::Block => libc::__WALL,
        Wait::NoHang => libc::__WALL | libc::WNOHANG,
    };
    loop {
        match foster::sys::waitpid(pid, flags) {
            Ok((0, _)) => return Ok(None),
            Ok(found) => return Ok(Some(found)),
            Err(Errno::EINTR) => continue,
            Err(error) => return Err(error),
        }
    }
}
// ANCHOR_END: reap

/// The PID of a child that has ended and not been reaped yet, without
/// reaping it: waitid(2) with `WNOWAIT` leaves it a zombie, so that its
/// `/proc/PID` can still be read. `Ok(None)` when none has ended,
/// `Err(ECHILD)` when there are no children at all.
pub fn peek_ended() -> Result<Option<i32>, Errno> {
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT | libc::__WALL;
    loop {
        match foster::sys::waitid_any(flags) {
            Ok(pid) => return Ok((pid > 0).then_some(pid)),
            Err(Errno::EINTR) => continue,
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw statuses as the kernel builds them (do_exit, kernel/exit.c):
    /// exit code << 8; signal | 0x80 for a core dump; 0x7f | signal << 8
    /// for a stop; 0xffff for a continue.
    #[test]
    fn every_signal_from_1_to_64_gives_128_plus_n() {
        for signal in 1..=64 {
            for core_dumped in [false, true] {
                let raw = signal | if core_dumped { 0x80 } else { 0 };
                let status = Status::from_raw(raw);
                assert_eq!(
                    status,
                    Status::Killed {
                        signal,
                        core_dumped
                    }
                );
                assert_eq!(status.shell_status(), Some(128 + signal));
            }
        }
    }

    #[test]
    fn exits_stops_and_continues() {
        assert_eq!(Status::from_raw(0), Status::Exited(0));
        assert_eq!(Status::from_raw(255 << 8).shell_status(), Some(255));
        let stopped = Status::from_raw(0x7f | (libc::SIGTSTP << 8));
        assert_eq!(stopped, Status::Stopped(libc::SIGTSTP));
        assert_eq!(stopped.shell_status(), None);
        assert_eq!(Status::from_raw(0xffff), Status::Continued);
        assert_eq!(Status::Continued.shell_status(), None);
    }

    #[test]
    fn messages_name_real_time_signals() {
        let killed = Status::Killed {
            signal: libc::SIGRTMIN() + 6,
            core_dumped: true,
        };
        assert_eq!(killed.to_string(), "killed by SIGRTMIN+6 (core dumped)");
        assert_eq!(Status::Exited(3).to_string(), "exited 3");
    }

    /// Starts `sh -c SCRIPT` and returns its PID, for the test to reap
    /// with this module's own calls (not std's `Child::wait`).
    #[allow(clippy::zombie_processes)]
    fn start_sh(script: &str) -> i32 {
        let child = std::process::Command::new("sh")
            .args(["-c", script])
            .spawn()
            .expect("start sh");
        child.id() as i32
    }

    #[test]
    fn a_child_killed_by_a_real_time_signal_is_reaped_with_its_status() {
        let pid = start_sh("kill -s 40 $$");
        let reaped = reap(pid, Wait::Block).expect("waitpid");
        assert_eq!(reaped.map(|r| r.pid), Some(pid));
        assert_eq!(reaped.and_then(|r| r.status.shell_status()), Some(168));
        assert_eq!(reap(pid, Wait::NoHang), Err(Errno::ECHILD));
    }

    #[test]
    fn peeking_leaves_the_zombie_for_the_reap() {
        let pid = start_sh("exit 9");
        // Until the child has exited, peek_ended sees nothing of it.
        let mut seen = None;
        for _ in 0..500 {
            seen = peek_ended().ok().flatten().filter(|&p| p == pid);
            if seen.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(seen, Some(pid));
        assert_eq!(foster::procfs::state(pid), Some('Z'));
        let reaped = reap(pid, Wait::Block).expect("waitpid");
        assert_eq!(reaped.map(|r| r.status), Some(Status::Exited(9)));
    }
}
