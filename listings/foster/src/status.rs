//! Turning what `waitpid(2)` reports into the exit status a shell shows.

use nix::sys::wait::WaitStatus;

/// The status a shell (and Docker) reports for a finished process: its exit
/// code, or 128 + N when signal N killed it. `None` for a process that has
/// only stopped or continued, which has not finished.
pub fn shell_status(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as i32),
        _ => None,
    }
}

/// Describes how a process ended, for logs: "exited 3", "killed by SIGTERM".
pub fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited {code}"),
        WaitStatus::Signaled(_, signal, core) => {
            let core = if core { " (core dumped)" } else { "" };
            format!("killed by {}{core}", signal.as_str())
        }
        other => format!("{other:?}"),
    }
}
