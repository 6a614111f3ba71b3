//! Reaping: collecting the exit status of every process that has become
//! foster's child and died, the command's and every adopted orphan's, so
//! that none stays a zombie.

use std::collections::BTreeSet;

use foster::log::Log;
use foster::procfs::{children, comm};
use foster::status::{peek_ended, reap, Reaped, Status, Wait};
use nix::errno::Errno;
use nix::unistd::{getpid, Pid};

/// What one round of reaping found.
#[derive(Debug, Default)]
pub struct Round {
    /// The command's status, if the command ended in this round.
    pub command_status: Option<Status>,
    /// Whether foster still has children (alive, or dead and unreaped).
    pub children_left: bool,
}

/// Knows which child is the command, and how much to say.
pub struct Reaper {
    pub command: Pid,
    pub log: Log,
    /// `-w`: warn about each process reaped that is not the command.
    pub warn_on_reap: bool,
    /// Whether `/proc` is the procfs of foster's PID namespace
    /// ([`foster::procfs::is_own`]). If not, its PIDs are not foster's, so
    /// foster reads nothing there: no names in messages, no adoptions.
    pub proc_is_ours: bool,
    /// At `-vv`: the children foster has already seen.
    known: BTreeSet<i32>,
}

impl Reaper {
    pub fn new(command: Pid, log: Log, warn_on_reap: bool, proc_is_ours: bool) -> Reaper {
        Reaper {
            command,
            log,
            warn_on_reap,
            proc_is_ours,
            known: BTreeSet::new(),
        }
    }

    // ANCHOR: reap_all
    /// Reaps every child that has died, then returns. One SIGCHLD may stand
    /// for many deaths: a pending signal is not queued twice (signal(7)),
    /// so foster asks waitpid(2) again and again with WNOHANG until it
    /// says "none dead now" (0) or "no children at all" (ECHILD).
    pub fn reap_all(&mut self) -> Round {
        let mut round = Round::default();
        loop {
            let (next, name) = self.next_dead_with_name();
            match reap(next, Wait::NoHang) {
                Ok(Some(reaped)) => self.reaped(reaped, name, &mut round),
                Ok(None) => {
                    round.children_left = true;
                    break;
                }
                Err(Errno::ECHILD) => break,
                Err(error) => {
                    self.log.warn(format_args!("warning: waitpid: {error}"));
                    round.children_left = true;
                    break;
                }
            }
        }
        if self.log.tracing() && self.proc_is_ours {
            self.report_adoptions();
        }
        round
    }
    // ANCHOR_END: reap_all

    fn reaped(&mut self, reaped: Reaped, name: Option<String>, round: &mut Round) {
        let Reaped { pid, status } = reaped;
        let is_command = pid == self.command.as_raw();
        // A child that only stopped or continued has not ended. waitpid
        // does not report those without WUNTRACED/WCONTINUED, but if it
        // ever did, the command would still be running: not its status.
        if is_command && status.shell_status().is_some() {
            round.command_status = Some(status);
        }
        // The common case, an orphan reaped with nothing to say, must cost
        // nothing more than the waitpid: format only what will be shown.
        let orphan_news = self.warn_on_reap || self.log.tracing();
        if !is_command && !orphan_news {
            return;
        }
        self.known.remove(&pid);
        let name = name.unwrap_or_else(|| "?".into());
        if is_command {
            self.log
                .info(format_args!("command {pid} ({name}) {status}"));
        } else if self.warn_on_reap {
            self.log.warn(format_args!(
                "warning: reaped zombie {pid} ({name}), {status}"
            ));
        } else {
            self.log
                .trace(format_args!("reaped orphan {pid} ({name}), {status}"));
        }
    }

    /// The next dead child and its command name, for messages: waitid(2)
    /// with WNOWAIT looks at a dead child without reaping it, so its
    /// `/proc/PID/comm` is still there. Only done when a message will show
    /// it; otherwise `(-1, None)`: waitpid takes any dead child.
    fn next_dead_with_name(&self) -> (i32, Option<String>) {
        let named = self.warn_on_reap || self.log.level >= foster::log::INFO;
        if !(named && self.proc_is_ours) {
            return (-1, None);
        }
        match peek_ended() {
            Ok(Some(pid)) => (pid, comm(pid)),
            _ => (-1, None),
        }
    }

    /// At `-vv`, names the children foster has not seen before: orphans it
    /// has adopted since it last looked. The kernel sends no signal when it
    /// hands foster an orphan that is still alive, so this is what foster
    /// notices each time it wakes up (`/proc/PID/task/TID/children`, proc(5)).
    fn report_adoptions(&mut self) {
        for pid in children(getpid().as_raw()) {
            if pid != self.command.as_raw() && self.known.insert(pid) {
                let name = comm(pid).unwrap_or_else(|| "?".into());
                self.log
                    .trace(format_args!("adopted orphan {pid} ({name})"));
            }
        }
    }
}
