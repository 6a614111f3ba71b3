//! Reaping: collecting the exit status of every process that has become
//! foster's child and died, the command's and every adopted orphan's, so
//! that none stays a zombie.

use std::collections::BTreeSet;

use foster::log::Log;
use foster::procfs::comm;
use foster::status::describe;
use nix::errno::Errno;
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// What one round of reaping found.
#[derive(Debug, Default)]
pub struct Round {
    /// The command's status, if the command was reaped in this round.
    pub command_status: Option<WaitStatus>,
    /// Whether foster still has children (alive, or dead and unreaped).
    pub children_left: bool,
}

/// Knows which child is the command, and how much to say.
pub struct Reaper {
    pub command: Pid,
    pub log: Log,
    /// `-w`: warn about each process reaped that is not the command.
    pub warn_on_reap: bool,
    /// At `-vv`: the children foster has already seen.
    known: BTreeSet<i32>,
}

impl Reaper {
    pub fn new(command: Pid, log: Log, warn_on_reap: bool) -> Reaper {
        Reaper {
            command,
            log,
            warn_on_reap,
            known: BTreeSet::new(),
        }
    }

    // ANCHOR: reap_all
    /// Reaps every child that has died, then returns. One SIGCHLD may stand
    /// for many deaths: a pending signal is not queued twice (signal(7)),
    /// so foster asks waitpid(2) again and again with WNOHANG until it
    /// says "none dead now" (0) or "no children at all" (ECHILD).
    /// `__WALL` also collects children that were not started by fork(2)
    /// with SIGCHLD as their exit signal (wait(2), NOTES).
    pub fn reap_all(&mut self) -> Round {
        let mut round = Round::default();
        loop {
            let (next, name) = self.next_dead_with_name();
            match waitpid(next, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
                Ok(WaitStatus::StillAlive) => {
                    round.children_left = true;
                    break;
                }
                Ok(status) => self.reaped(status, name, &mut round),
                Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => break,
                Err(error) => {
                    self.log.warn(format_args!("warning: waitpid: {error}"));
                    round.children_left = true;
                    break;
                }
            }
        }
        if self.log.tracing() {
            self.report_adoptions();
        }
        round
    }
    // ANCHOR_END: reap_all

    fn reaped(&mut self, status: WaitStatus, name: Option<String>, round: &mut Round) {
        let Some(pid) = status.pid() else { return };
        self.known.remove(&pid.as_raw());
        if pid == self.command {
            round.command_status = Some(status);
        }
        // The common case, an orphan reaped with nothing to say, must cost
        // nothing more than the waitpid: format only what will be shown.
        let orphan_news = self.warn_on_reap || self.log.tracing();
        if pid != self.command && !orphan_news {
            return;
        }
        let name = name.unwrap_or_else(|| "?".into());
        let how = describe(status);
        if pid == self.command {
            self.log.info(format_args!("command {pid} ({name}) {how}"));
        } else if self.warn_on_reap {
            self.log
                .warn(format_args!("warning: reaped zombie {pid} ({name}), {how}"));
        } else {
            self.log
                .trace(format_args!("reaped orphan {pid} ({name}), {how}"));
        }
    }

    /// The next dead child and its command name, for messages: waitid(2)
    /// with WNOWAIT looks at a dead child without reaping it, so its
    /// `/proc/PID/comm` is still there. Only done when a message will show
    /// it; otherwise `(None, None)`: waitpid takes any dead child.
    fn next_dead_with_name(&self) -> (Option<Pid>, Option<String>) {
        if !(self.warn_on_reap || self.log.level >= foster::log::INFO) {
            return (None, None);
        }
        let flags = WaitPidFlag::WEXITED
            | WaitPidFlag::WNOHANG
            | WaitPidFlag::WNOWAIT
            | WaitPidFlag::__WALL;
        match waitid(Id::All, flags).ok().and_then(|status| status.pid()) {
            Some(pid) => (Some(pid), comm(pid.as_raw())),
            None => (None, None),
        }
    }

    /// At `-vv`, names the children foster has not seen before: orphans it
    /// has adopted since it last looked. The kernel sends no signal when it
    /// hands foster an orphan that is still alive, so this is what foster
    /// notices each time it wakes up (`/proc/PID/task/TID/children`, proc(5)).
    fn report_adoptions(&mut self) {
        let me = std::process::id();
        let path = format!("/proc/{me}/task/{me}/children");
        let Ok(children) = std::fs::read_to_string(path) else {
            return;
        };
        for pid in children
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            if pid != self.command.as_raw() && self.known.insert(pid) {
                let name = comm(pid).unwrap_or_else(|| "?".into());
                self.log
                    .trace(format_args!("adopted orphan {pid} ({name})"));
            }
        }
    }
}
