//! Reaping: collecting the exit status of every process that has become
//! foster's child and died, the command's and every adopted orphan's, so
//! that none stays a zombie.

use std::collections::BTreeSet;

use foster::log::Log;
use foster::procfs::{children, comm};
use foster::status::{peek_ended, reap, reap_raw, Reaped, Status, Wait};
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
    /// Whether a message may name a dead child ([`Reaper::next_dead_with_name`]).
    names_wanted: bool,
    /// Whether reaping an orphan is worth a message (`-w` or `-vv`).
    orphan_news: bool,
    /// Whether nothing at all is said while reaping (no `-v`, `-w`, `-vv`).
    quiet: bool,
}

/// The status of a child that has ended; `None` for one that only stopped
/// or continued. waitpid(2) does not report those without WUNTRACED or
/// WCONTINUED, but if it ever did, the command would still be running.
fn ended(status: Status) -> Option<Status> {
    status.shell_status().map(|_| status)
}

impl Reaper {
    pub fn new(command: Pid, log: Log, warn_on_reap: bool, proc_is_ours: bool) -> Reaper {
        let names_wanted = (warn_on_reap || log.level >= foster::log::INFO) && proc_is_ours;
        let orphan_news = warn_on_reap || log.tracing();
        Reaper {
            command,
            log,
            warn_on_reap,
            proc_is_ours,
            known: BTreeSet::new(),
            names_wanted,
            orphan_news,
            quiet: log.level < foster::log::INFO && !orphan_news,
        }
    }

    // ANCHOR: reap_all
    /// Reaps every child that has died, then returns. One SIGCHLD may stand
    /// for many deaths: a pending signal is not queued twice (signal(7)),
    /// so foster asks waitpid(2) again and again with WNOHANG until it
    /// says "none dead now" (0) or "no children at all" (ECHILD).
    ///
    /// This is the common case, in which nothing is said about an orphan:
    /// it is inlined into foster's loop and does little besides the calls.
    /// With `-v`, `-w` or `-vv`, [`Reaper::reap_all_telling`] does the same
    /// and says so.
    #[inline(always)]
    pub fn reap_all(&mut self) -> Round {
        if !self.quiet {
            return self.reap_all_telling();
        }
        let mut round = Round::default();
        loop {
            match reap_raw(-1, Wait::NoHang) {
                // The status is decoded for the command only.
                Ok(Some((pid, raw))) if pid == self.command.as_raw() => {
                    round.command_status = ended(Status::from_raw(raw));
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    round.children_left = true;
                    return round;
                }
                Err(error) => return self.wait_failed(error, round),
            }
        }
    }

    /// [`Reaper::reap_all`] with messages. When a message will name the
    /// dead child, it is looked at first ([`Reaper::next_dead_with_name`]).
    #[inline(never)]
    fn reap_all_telling(&mut self) -> Round {
        let mut round = Round::default();
        loop {
            let (next, name) = match self.names_wanted {
                true => self.next_dead_with_name(),
                false => (-1, None),
            };
            match reap(next, Wait::NoHang) {
                Ok(Some(reaped)) => self.reaped(reaped, name, &mut round),
                Ok(None) => {
                    round.children_left = true;
                    break;
                }
                Err(error) => {
                    round = self.wait_failed(error, round);
                    break;
                }
            }
        }
        if self.log.tracing() && self.proc_is_ours {
            self.report_adoptions();
        }
        round
    }

    /// The end of a round when waitpid(2) failed: ECHILD means foster has
    /// no children left at all; anything else is worth a warning, and the
    /// children may still be there.
    #[cold]
    #[inline(never)]
    fn wait_failed(&self, error: Errno, mut round: Round) -> Round {
        if error != Errno::ECHILD {
            self.log.warn(format_args!("warning: waitpid: {error}"));
            round.children_left = true;
        }
        round
    }
    // ANCHOR_END: reap_all

    fn reaped(&mut self, reaped: Reaped, name: Option<String>, round: &mut Round) {
        let Reaped { pid, status } = reaped;
        let is_command = pid == self.command.as_raw();
        if is_command {
            round.command_status = ended(status);
        }
        // Format only what will be shown.
        if !is_command && !self.orphan_news {
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
    /// it ([`Reaper::names_wanted`]); `(-1, None)` when none has ended.
    fn next_dead_with_name(&self) -> (i32, Option<String>) {
        match peek_ended() {
            Ok(Some(pid)) => (pid, comm(pid)),
            _ => (-1, None),
        }
    }

    /// At `-vv`, names the children foster has not seen before: orphans it
    /// has adopted since it last looked. The kernel sends no signal when it
    /// hands foster an orphan that is still alive, so this is what foster
    /// notices each time it wakes up (`/proc/PID/task/TID/children`, proc(5)).
    #[inline(never)]
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
