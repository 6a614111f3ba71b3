//! Processes of the book's programs: starting them ([`spawn`]), waiting
//! for them within a deadline ([`deadline`]), reading them in `/proc`
//! ([`procfs`]) and how they treat a signal ([`signals`]), and how they
//! ended.

pub mod deadline;
pub mod procfs;
pub mod signals;
pub mod spawn;

use nix::sys::signal::Signal;

/// Ends the calling process at once with `code`, like `_exit(2)`: no atexit
/// handlers, no flushing of buffers shared with the parent. This is how a
/// forked child that will not exec must leave (fork(2), signal-safety(7)).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes no pointers and never returns; it is
    // async-signal-safe, so it is sound even in a child forked from a
    // process whose other threads held locks at the time of the fork.
    unsafe { libc::_exit(code) }
}

/// The status a shell shows for a child we started: its exit code, or
/// 128+N when signal N killed it (what `foster::status::shell_status` says
/// for a raw wait status).
pub fn shell_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Which signals could have ended the process whose status a table shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Killable {
    /// Any signal: 128 + N is read as "signal N".
    ByAnySignal,
    /// Only SIGKILL: the first process of a PID namespace stopped from
    /// outside, for which the kernel drops every other signal it has no
    /// handler for (sig_task_ignored, kernel/signal.c). 128 + N for another
    /// N is then an exit status it chose, as `naive-init --exit-on-term`
    /// does.
    OnlyBySigkill,
}

/// A shell status as a reader wants to see it: 137 → "137 (SIGKILL)",
/// 143 → "143 (SIGTERM)", or with [`Killable::OnlyBySigkill`]
/// "143 (exit status, not SIGTERM)"; a status below 129 as it is.
pub fn describe_status(status: i32, killable: Killable) -> String {
    let signal = status
        .checked_sub(128)
        .filter(|n| *n > 0)
        .and_then(|n| Signal::try_from(n).ok());
    match (signal, killable) {
        (None, _) => status.to_string(),
        (Some(Signal::SIGKILL), _) | (Some(_), Killable::ByAnySignal) => {
            format!("{status} ({})", signal.map_or("", Signal::as_str))
        }
        (Some(other), Killable::OnlyBySigkill) => {
            format!("{status} (exit status, not {})", other.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_name_their_signal_where_one_could_kill() {
        use Killable::*;
        assert_eq!(describe_status(137, ByAnySignal), "137 (SIGKILL)");
        assert_eq!(describe_status(143, ByAnySignal), "143 (SIGTERM)");
        assert_eq!(describe_status(137, OnlyBySigkill), "137 (SIGKILL)");
        assert_eq!(
            describe_status(143, OnlyBySigkill),
            "143 (exit status, not SIGTERM)"
        );
        assert_eq!(describe_status(3, ByAnySignal), "3");
        assert_eq!(describe_status(128, OnlyBySigkill), "128");
        assert_eq!(describe_status(255, ByAnySignal), "255");
    }
}
