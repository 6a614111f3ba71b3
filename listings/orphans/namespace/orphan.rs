//! Making orphans on purpose: the one place where the book's programs leave
//! processes behind for someone else to reap. `orphan-maker` counts the
//! zombies they become (chapter 8); `orphan-maker --leave` hands thousands
//! of them to foster (chapter 10 and foster's tests).

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe, read, write, ForkResult, Pid};
use orphans::process::exit_now;

/// The most orphans one middle process starts. It writes their PIDs (four
/// bytes each) into a pipe that nobody reads until it has exited, so they
/// must fit in the smallest pipe Linux makes, one page (pipe(7)).
pub const MOST_PER_PARENT: usize = 1000;

/// What [`make`] makes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// How many orphans.
    pub count: usize,
    /// How many orphans each middle process starts before it exits, from 1
    /// (one double fork per orphan) to [`MOST_PER_PARENT`]: batches make
    /// many orphans fast, with few processes alive at a time.
    pub per_parent: usize,
    /// When the orphans exit.
    pub exit: Exit,
}

/// When an orphan exits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exit {
    /// At once. One that exits before its parent does reaches its adopter
    /// as a zombie; one that is slower arrives alive and exits there.
    AtOnce,
    /// As soon as its parent has exited: the adopter gets it alive, then
    /// sees it exit.
    AfterParent,
    /// When [`Orphans::release`] is called: all of them together.
    OnRelease,
}

/// The orphans [`make`] made.
#[derive(Debug)]
pub struct Orphans {
    /// Their PIDs, in the order they were made.
    pub pids: Vec<i32>,
    /// Why fewer orphans than planned were made, if they were: the call
    /// that failed (fork(2) with EAGAIN under a PID limit, say).
    pub failure: Option<String>,
    /// The read end of a pipe whose write end each orphan holds until it
    /// exits: its end of file means that they have all exited.
    alive: OwnedFd,
    /// With [`Exit::OnRelease`], the write end of the pipe the orphans wait
    /// on: closing it lets them go.
    gate: Option<OwnedFd>,
}

// ANCHOR: make
/// Makes `plan.count` orphans. For each batch of them it forks a *middle*
/// process, which forks the orphans, tells us their PIDs and exits at once.
///
/// The contract: when `make` returns, every orphan has been made and
/// orphaned. Their parents, our children, have exited and been reaped, so
/// none of the orphans is our child any more: the kernel has handed each
/// to the nearest child subreaper above us, or to PID 1 of our PID
/// namespace (find_new_reaper, kernel/exit.c), which must reap it. A fork
/// that fails ends the making early, with `failure` saying why; an `Err`
/// means that nothing could be made. The orphans inherit our open files,
/// as fork(2) children do, and exit with status 0.
///
/// The children make only async-signal-safe calls (signal-safety(7)), so
/// the caller may have other threads; but none of them may reap children
/// it does not know (waitpid(2) with -1) meanwhile: the middle processes
/// are the caller's children, and `make` waits for each.
pub fn make(plan: Plan) -> Result<Orphans, String> {
    make_paced(plan, |_| ())
}

/// As [`make`], but once a batch has been orphaned (its middle process has
/// exited and been reaped), `pace` gets the batch's PIDs before the next
/// batch is made. A caller that waits there until they are reaped makes
/// orphans no faster than their adopter reaps them: what it then counts is
/// what the adopter leaves, not whether it keeps up with a loop of forks.
pub fn make_paced(plan: Plan, mut pace: impl FnMut(&[i32])) -> Result<Orphans, String> {
    let (mine, theirs) = pipes(plan.exit).map_err(|e| format!("pipe: {e}"))?;
    let per_parent = plan.per_parent.clamp(1, MOST_PER_PARENT);
    let mut pids = Vec::with_capacity(plan.count);
    let mut failure = None;
    let mut left = plan.count;
    while left > 0 && failure.is_none() {
        let batch = left.min(per_parent);
        // SAFETY: the middle process and the orphans make only
        // async-signal-safe calls (fork, pipe, read, write), allocate
        // nothing, and leave through exit_now: sound even when the
        // caller has other threads.
        let started = match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                // Our ends are not for the orphans: with the gate's write
                // end open in them, their wait for its end of file would
                // never end.
                drop(mine);
                be_middle(batch, plan.exit, theirs)
            }
            // The middle process is our own child, and it exits at once:
            // we do reap that one.
            Ok(ForkResult::Parent { child }) => reap_middle(child),
            Err(e) => Err(format!("fork: {e}")),
        };
        let made_before = pids.len();
        receive_pids(&mine.pids, &mut pids)?;
        match started {
            Ok(()) => pace(&pids[made_before..]),
            Err(why) => failure = Some(format!("orphan {}: {why}", pids.len() + 1)),
        }
        left -= batch;
    }
    // The orphans hold their own copies of these ends.
    drop(theirs);
    Ok(Orphans {
        pids,
        failure,
        alive: mine.alive,
        gate: mine.gate,
    })
}

/// A middle process: forks `batch` orphans, writes their PIDs for the
/// maker, and exits at once, orphaning them. Its exit status is 0, or the
/// errno of the call that failed.
fn be_middle(batch: usize, exit: Exit, theirs: ChildEnds) -> ! {
    // With `AfterParent` the orphans wait for end of file on this pipe. It
    // comes when the last holder of its write end, this process, exits.
    let parent_gone = match exit {
        Exit::AfterParent => match pipe() {
            Ok(ends) => Some(ends),
            Err(errno) => exit_now(errno as i32),
        },
        Exit::AtOnce | Exit::OnRelease => None,
    };
    for _ in 0..batch {
        // SAFETY: as in `make`: only async-signal-safe calls follow.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let waits_on = match parent_gone {
                    Some((parent_gone, held_by_parent)) => {
                        drop(held_by_parent);
                        Some(parent_gone)
                    }
                    None => theirs.gate,
                };
                be_orphan(theirs.alive, waits_on)
            }
            // Four bytes: a write(2) that a pipe takes whole (pipe(7)).
            Ok(ForkResult::Parent { child }) => {
                let _ = write(&theirs.pids, &child.as_raw().to_ne_bytes());
            }
            Err(errno) => exit_now(errno as i32),
        }
    }
    exit_now(0)
}

/// An orphan: waits for end of file on `waits_on`, if it has a pipe to
/// wait on, and exits. Exiting closes `_alive`, its end of the pipe that
/// tells the maker when every orphan has gone.
fn be_orphan(_alive: OwnedFd, waits_on: Option<OwnedFd>) -> ! {
    if let Some(pipe) = waits_on {
        let _ = read(pipe.as_fd(), &mut [0u8; 1]);
    }
    exit_now(0)
}
// ANCHOR_END: make

impl Orphans {
    /// Lets the orphans made with [`Exit::OnRelease`] go, all at once:
    /// closes the gate's write end, and each orphan's read(2) of it
    /// returns end of file. Does nothing for the others.
    pub fn release(&mut self) {
        self.gate = None;
    }

    /// Waits until every orphan has exited (releasing them first), giving
    /// up when nothing happens for `patience`. An orphan that has exited
    /// may still be a zombie: only its adopter can reap it.
    pub fn wait_until_exited(&mut self, patience: Duration) -> Result<(), String> {
        self.release();
        let timeout = PollTimeout::try_from(patience).unwrap_or(PollTimeout::MAX);
        loop {
            let mut fds = [PollFd::new(self.alive.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(0) => {
                    let ms = patience.as_millis();
                    return Err(format!("the orphans were still running after {ms} ms"));
                }
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(format!("poll: {e}")),
            }
            // Nobody writes to this pipe: a read returns only end of file.
            match read(self.alive.as_fd(), &mut [0u8; 1]) {
                Ok(0) => return Ok(()),
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }
}

/// The maker's ends of the pipes.
struct MakerEnds {
    alive: OwnedFd,
    pids: OwnedFd,
    gate: Option<OwnedFd>,
}

/// The ends that the middle processes and orphans use.
struct ChildEnds {
    alive: OwnedFd,
    pids: OwnedFd,
    gate: Option<OwnedFd>,
}

/// The pipes between the maker, its middle processes and the orphans.
fn pipes(exit: Exit) -> Result<(MakerEnds, ChildEnds), Errno> {
    let (alive_rx, alive_tx) = pipe()?;
    let (pids_rx, pids_tx) = pipe()?;
    let (gate_rx, gate_tx) = match exit {
        Exit::OnRelease => pipe().map(|(rx, tx)| (Some(rx), Some(tx)))?,
        Exit::AtOnce | Exit::AfterParent => (None, None),
    };
    let mine = MakerEnds {
        alive: alive_rx,
        pids: pids_rx,
        gate: gate_tx,
    };
    let theirs = ChildEnds {
        alive: alive_tx,
        pids: pids_tx,
        gate: gate_rx,
    };
    Ok((mine, theirs))
}

/// Reaps a middle process. Its exit status is the errno of the fork(2) (or
/// pipe(2)) that failed in it, or 0.
fn reap_middle(middle: Pid) -> Result<(), String> {
    loop {
        return match waitpid(middle, None) {
            Ok(WaitStatus::Exited(_, 0)) => Ok(()),
            Ok(WaitStatus::Exited(_, errno)) => Err(format!("fork: {}", Errno::from_raw(errno))),
            Err(Errno::EINTR) => continue,
            other => Err(format!("the middle process {middle}: {other:?}")),
        };
    }
}

/// Reads the PIDs waiting in the pipe: all that a middle process wrote,
/// since it has exited. Each PID came in one write(2) of four bytes, and
/// the pipe holds nothing else, so a read takes whole PIDs.
fn receive_pids(from_middles: &OwnedFd, pids: &mut Vec<i32>) -> Result<(), String> {
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [PollFd::new(from_middles.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(0) => return Ok(()),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(format!("poll: {e}")),
        }
        let n = match read(from_middles.as_fd(), &mut buf) {
            Ok(n) if n % 4 == 0 => n,
            Ok(n) => return Err(format!("{n} bytes of PIDs on the pipe: not whole PIDs")),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(format!("read: {e}")),
        };
        let whole = buf[..n].chunks_exact(4);
        pids.extend(whole.map(|pid| i32::from_ne_bytes([pid[0], pid[1], pid[2], pid[3]])));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::prctl;

    /// Makes orphans with us as their subreaper, so that they come back to
    /// us, and returns how many of them we reaped.
    fn made_and_reaped(plan: Plan) -> (Orphans, usize) {
        let mut orphans = make(plan).expect("make");
        orphans
            .wait_until_exited(Duration::from_secs(10))
            .expect("they exit");
        let mut reaped = 0;
        for &pid in &orphans.pids {
            if waitpid(Pid::from_raw(pid), None).is_ok() {
                reaped += 1;
            }
        }
        (orphans, reaped)
    }

    // One test, not several: tests run in threads of one process, and the
    // subreaper flag, like make's forks, belongs to the whole process.
    #[test]
    fn every_orphan_is_made_reported_and_adopted_in_each_way() {
        prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
        for (count, per_parent, exit) in [
            (5, 1, Exit::AfterParent),
            (1200, 500, Exit::AtOnce),
            (30, 7, Exit::OnRelease),
        ] {
            let plan = Plan {
                count,
                per_parent,
                exit,
            };
            let (orphans, reaped) = made_and_reaped(plan);
            assert_eq!(orphans.failure, None, "{plan:?}");
            assert_eq!(orphans.pids.len(), count, "{plan:?}");
            assert_eq!(reaped, count, "each came to us, its subreaper: {plan:?}");
        }
        // Paced: each batch is already orphaned when `pace` gets it (its
        // orphans are ours to reap, as their subreaper), and comes before
        // the next batch is made.
        let plan = Plan {
            count: 5,
            per_parent: 2,
            exit: Exit::AfterParent,
        };
        let mut batches = Vec::new();
        let mut orphans = make_paced(plan, |batch| {
            for &pid in batch {
                assert!(waitpid(Pid::from_raw(pid), None).is_ok(), "{pid} not ours");
            }
            batches.push(batch.to_vec());
        })
        .expect("make_paced");
        orphans
            .wait_until_exited(Duration::from_secs(10))
            .expect("they exit");
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(batches.concat(), orphans.pids);
    }
}
