//! The grace shutdown: what foster does after the command has exited and
//! before it exits itself. tini and catatonit exit at once; dumb-init sends
//! SIGTERM to the command's process group on its way out, but waits for
//! nobody. The processes left behind are then killed with SIGKILL by the
//! kernel (when the init was PID 1) or left running.

use std::time::{Duration, Instant};

use foster::log::Log;
use foster::procfs::descendants;
use foster::reap::Reaper;
use foster::signals::{name, send, Signals};
use nix::sys::signal::Signal;

// ANCHOR: shut_down
/// Stops every process still alive, gently first: SIGTERM, up to `grace`
/// for them to finish, SIGKILL for the rest, and reaps them all. Returns at
/// once when nothing is left, which is the common case.
pub fn shut_down(signals: &Signals, reaper: &mut Reaper, grace: Duration, log: Log) {
    if !reaper.reap_all().children_left {
        return;
    }
    if grace.is_zero() {
        log.info(format_args!("grace 0: leaving the remaining processes"));
        return;
    }
    let asked = signal_everyone(Signal::SIGTERM as i32, log);
    log.info(format_args!(
        "sent SIGTERM to {asked}; waiting up to {grace:?}"
    ));
    let deadline = Instant::now() + grace;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match signals.next_within(left) {
            None => break,
            Some(number) if number == Signal::SIGCHLD as i32 => {
                if !reaper.reap_all().children_left {
                    return;
                }
            }
            // A signal for the command, which is gone: pass it to everyone.
            Some(number) => {
                signal_everyone(number, log);
            }
        }
    }
    // SIGKILL cannot be ignored, but a process may fork between our look
    // and our kill: repeat while foster has children, for a bounded time
    // (a child that /proc does not show could otherwise keep foster here).
    for _ in 0..KILL_ROUNDS {
        let killed = signal_everyone(Signal::SIGKILL as i32, log);
        log.info(format_args!("grace time over: sent SIGKILL to {killed}"));
        signals.next_within(Duration::from_millis(100));
        if !reaper.reap_all().children_left {
            return;
        }
    }
    log.warn(format_args!(
        "warning: some children would not die; exiting anyway"
    ));
}

/// SIGKILL rounds, 100 ms apart, before foster gives up waiting.
const KILL_ROUNDS: u32 = 50;
// ANCHOR_END: shut_down

// ANCHOR: everyone
/// Sends `number` to every process foster is responsible for, and says to
/// whom. As PID 1 that is everyone in the PID namespace: kill(2) with -1
/// reaches every process but the caller and the namespace's init, including
/// processes that left foster's process group or session (setsid(2)).
/// Elsewhere it is every descendant of foster, found in `/proc`.
fn signal_everyone(number: i32, log: Log) -> String {
    if std::process::id() == 1 {
        if let Err(error) = send(-1, number) {
            log.warn(format_args!("warning: kill(-1, {}): {error}", name(number)));
        }
        return "every process in the namespace".into();
    }
    let descendants = descendants(std::process::id() as i32);
    for &pid in &descendants {
        // ESRCH: it died since we looked; nothing to do.
        let _ = send(pid, number);
    }
    match descendants.len() {
        1 => "1 descendant".into(),
        n => format!("{n} descendants"),
    }
}

// ANCHOR_END: everyone
