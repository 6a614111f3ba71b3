//! The grace shutdown: what foster does after the command has exited and
//! before it exits itself. tini and catatonit exit at once; dumb-init sends
//! SIGTERM to the command's process group on its way out, but waits for
//! nobody. The processes left behind are then killed with SIGKILL by the
//! kernel (when the init was PID 1) or left running.

use std::time::{Duration, Instant};

use foster::log::Log;
use foster::pidfd::PidFd;
use foster::procfs::{children, family_below, stat};
use foster::reap::Reaper;
use foster::signals::{name, send, Signals};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::getpid;

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
    let Some(mut reach) = Reach::new(reaper.proc_is_ours, log) else {
        return;
    };
    let asked = reach.signal_everyone(Signal::SIGTERM as i32, log);
    log.info(format_args!(
        "sent SIGTERM to {asked}; waiting up to {grace:?}"
    ));
    // Bounded, so it cannot overflow; if it could, no grace at all.
    let deadline = Instant::now()
        .checked_add(grace)
        .unwrap_or_else(Instant::now);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match signals.next_within(left) {
            None => break,
            Some(arrival) if arrival.number == Signal::SIGCHLD as i32 => {
                if !reaper.reap_all().children_left {
                    return;
                }
            }
            // A signal for the command, which is gone: pass it to everyone.
            Some(arrival) => {
                reach.signal_everyone(arrival.number, log);
            }
        }
    }
    kill_the_rest(signals, reaper, &mut reach, log);
}

/// How long foster waits for SIGKILL to work before it exits anyway: a
/// process in uninterruptible sleep (state D) dies only when it wakes up.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// SIGKILL for everyone, again every [`KILL_EVERY`] for processes forked
/// between foster's look and its kill, until nothing is left or
/// [`KILL_WAIT`] is over. Signals other than SIGCHLD change nothing now:
/// the deadline stands. One line says it started; one more, only if some
/// process outlived it.
fn kill_the_rest(signals: &Signals, reaper: &mut Reaper, reach: &mut Reach, log: Log) {
    let killed = reach.signal_everyone(Signal::SIGKILL as i32, log);
    log.info(format_args!("grace time over: sent SIGKILL to {killed}"));
    let deadline = Instant::now()
        .checked_add(KILL_WAIT)
        .unwrap_or_else(Instant::now);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match signals.next_within(left.min(KILL_EVERY)) {
            Some(arrival) if arrival.number == Signal::SIGCHLD as i32 => {
                if !reaper.reap_all().children_left {
                    return;
                }
            }
            Some(_) => {}
            None => {
                reach.signal_everyone(Signal::SIGKILL as i32, log);
            }
        }
    }
    log.warn(format_args!(
        "warning: children still alive {KILL_WAIT:?} after SIGKILL; exiting anyway"
    ));
}

/// How often the SIGKILL phase looks again for processes to kill.
const KILL_EVERY: Duration = Duration::from_millis(100);
// ANCHOR_END: shut_down

// ANCHOR: everyone
/// Whom foster may signal, decided once per shutdown.
enum Reach {
    /// As PID 1: kill(2) with -1 reaches every process of the namespace but
    /// foster, including those that left foster's process group or session
    /// (setsid(2)). No PID is named, so none can be the wrong one.
    Namespace,
    /// Every descendant found in `/proc`, each through a pidfd.
    Descendants,
    /// foster's own children only, with kill(2): a child's PID cannot be
    /// reused before foster reaps it, and foster is not reaping now.
    /// For kernels older than 5.3 (no pidfd_open).
    Children,
}

impl Reach {
    /// `None` when foster cannot tell whom to signal: not PID 1, and
    /// `/proc` is not its own, so its PIDs are not foster's.
    fn new(proc_is_ours: bool, log: Log) -> Option<Reach> {
        if getpid().as_raw() == 1 {
            Some(Reach::Namespace)
        } else if proc_is_ours {
            Some(Reach::Descendants)
        } else {
            log.warn(format_args!(
                "warning: not PID 1 and /proc is not foster's: cannot find the \
                 remaining processes, leaving them"
            ));
            None
        }
    }

    /// Sends `number` to every process foster is responsible for, and says
    /// to whom.
    fn signal_everyone(&mut self, number: i32, log: Log) -> String {
        match self {
            Reach::Namespace => {
                if let Err(error) = send(-1, number) {
                    return format!("nobody (kill(-1, {}): {error})", name(number));
                }
                "every process in the namespace".into()
            }
            Reach::Descendants => match signal_descendants(number) {
                Ok(count) => processes(count, "descendant"),
                Err(Errno::ENOSYS) => {
                    *self = Reach::Children;
                    log.warn(format_args!(
                        "warning: no pidfd_open (Linux < 5.3): signalling only foster's own children"
                    ));
                    self.signal_everyone(number, log)
                }
                Err(error) => format!("nobody (pidfd: {error})"),
            },
            Reach::Children => {
                let mine = children(getpid().as_raw());
                for &pid in &mine {
                    let _ = send(pid, number);
                }
                processes(mine.len(), "child")
            }
        }
    }
}

/// Signals each descendant through a pidfd, if it is still the process
/// that `/proc` showed: the pidfd is opened first, then the start time is
/// read again, so a PID reused in between is not signalled. Returns how
/// many were signalled; `Err(ENOSYS)` on a kernel without pidfd_open.
fn signal_descendants(number: i32) -> Result<usize, Errno> {
    let mut signalled: usize = 0;
    for (pid, start_time) in family_below(getpid().as_raw()) {
        let pidfd = match PidFd::open(pid) {
            Ok(pidfd) => pidfd,
            Err(Errno::ENOSYS) => return Err(Errno::ENOSYS),
            // ESRCH: it died since we looked; nothing to do.
            Err(_) => continue,
        };
        let same = stat(pid).is_some_and(|now| now.start_time == start_time);
        if same && pidfd.send(number).is_ok() {
            signalled = signalled.saturating_add(1);
        }
    }
    Ok(signalled)
}

/// "1 descendant", "3 children".
fn processes(count: usize, kind: &str) -> String {
    match (count, kind) {
        (1, _) => format!("1 {kind}"),
        (_, "child") => format!("{count} children"),
        _ => format!("{count} {kind}s"),
    }
}
// ANCHOR_END: everyone
