//! `--orphan-test`: whether PID 1 reaps an orphan, found out by making
//! one. `/proc` shows what PID 1 does with a signal, but not whether it
//! calls wait(2) for children it did not start; one orphan answers that.
//!
//! The doctor forks a helper that joins the container's PID namespace
//! (setns(2) with CLONE_NEWPID: the helper's *children* are born in it).
//! The helper's child forks the orphan and exits at once, so the kernel
//! hands the orphan to the namespace's PID 1 (find_new_reaper in
//! kernel/exit.c looks no further than the namespace). The orphan then
//! exits, and the doctor watches from the host whether PID 1 reaps it.
//! Only the PID namespace is the container's: the orphan runs the
//! doctor's own code, and touches no file of the container.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe, read, write, ForkResult};
use orphans::process::exit_now;

/// What became of the orphan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Reaped within this many milliseconds of its adoption.
    Reaped { milliseconds: u64 },
    /// Still a zombie this long after it exited: host PID `host_pid`.
    Stayed { host_pid: i32, milliseconds: u64 },
}

/// How long PID 1 gets to reap the orphan. An init reaps within
/// milliseconds of the orphan's SIGCHLD.
const PATIENCE: Duration = Duration::from_secs(1);

// ANCHOR: test
/// Leaves one orphan in the PID namespace of host PID `pid1` and watches
/// whether it is reaped. `Err` when the test could not be made (joining a
/// PID namespace needs CAP_SYS_ADMIN: root).
pub fn run(pid1: i32) -> Result<Outcome, String> {
    let namespace = File::open(format!("/proc/{pid1}/ns/pid")).map_err(|e| {
        format!("the orphan test cannot open /proc/{pid1}/ns/pid ({e}): run it as root")
    })?;
    let (report_read, report_write) = pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: the doctor has a single thread, so the child may do anything
    // the parent could; it leaves with exit_now, never returning here.
    let helper = match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(report_read);
            helper(&namespace, report_write)
        }
        ForkResult::Parent { child } => child,
    };
    drop(report_write);
    let _ = waitpid(helper, None);
    let orphan = read_pid(&report_read)?;
    Ok(watch(orphan))
}
// ANCHOR_END: test

/// The helper: joins the namespace, forks a child there that forks the
/// orphan and exits. Exit status 1 if it cannot join (the doctor then
/// reads no PID).
fn helper(namespace: &File, report: OwnedFd) -> ! {
    if setns(namespace.as_fd(), CloneFlags::CLONE_NEWPID).is_err() {
        exit_now(1);
    }
    // SAFETY: single-threaded, as in `run`.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // In the namespace: fork the orphan, and leave it behind.
            // SAFETY: single-threaded, as in `run`.
            if let Ok(ForkResult::Child) = unsafe { fork() } {
                orphan(report);
            }
            exit_now(0)
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = waitpid(child, None);
            exit_now(0)
        }
        Err(_) => exit_now(1),
    }
}

/// The orphan: names itself, tells the doctor its host PID, waits until
/// its parent has gone (it is adopted then), and exits.
fn orphan(report: OwnedFd) -> ! {
    let _ = nix::sys::prctl::set_name(c"doctor-orphan");
    // /proc is still the host's (only the PID namespace changed), so
    // /proc/self names our host PID.
    let host_pid = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|link| link.to_str()?.parse::<i32>().ok())
        .unwrap_or(0);
    let _ = write(&report, &host_pid.to_le_bytes());
    drop(report);
    let deadline = Instant::now() + PATIENCE;
    while nix::unistd::getppid().as_raw() != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    exit_now(0)
}

/// The orphan's host PID, as it reported it.
fn read_pid(report: &OwnedFd) -> Result<i32, String> {
    let mut bytes = [0u8; 4];
    match read(report.as_fd(), &mut bytes) {
        Ok(4) if i32::from_le_bytes(bytes) > 0 => Ok(i32::from_le_bytes(bytes)),
        _ => Err(
            "the orphan test could not join the container's PID namespace: run it as root".into(),
        ),
    }
}

/// Watches the orphan from the host, from the moment it was adopted (its
/// parent has been reaped by then) until it is reaped, or [`PATIENCE`]
/// after it became a zombie.
fn watch(orphan: i32) -> Outcome {
    let mut exited: Option<Instant> = None;
    let adopted = Instant::now();
    loop {
        match foster::procfs::state(orphan) {
            // Gone from /proc: reaped.
            None => {
                let milliseconds = adopted.elapsed().as_millis() as u64;
                return Outcome::Reaped { milliseconds };
            }
            Some('Z') => {
                let at = *exited.get_or_insert_with(Instant::now);
                if at.elapsed() >= PATIENCE {
                    let milliseconds = PATIENCE.as_millis() as u64;
                    return Outcome::Stayed {
                        host_pid: orphan,
                        milliseconds,
                    };
                }
            }
            // Still running long after its parent went: count it as not
            // reaped rather than wait for ever.
            Some(_) if adopted.elapsed() > 2 * PATIENCE => {
                return Outcome::Stayed {
                    host_pid: orphan,
                    milliseconds: 0,
                };
            }
            Some(_) => {}
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
