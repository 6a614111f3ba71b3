//! Small readers for `/proc`, the kernel's view of every process (proc(5)):
//! what foster itself reads. The book's other readers are in its library
//! (`orphans::process::procfs`), out of the init that must stay small.

use std::fs;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::read;

/// The command name of process `pid` (`/proc/PID/comm`, at most 15 bytes,
/// set from the executable's name at execve(2)). `None` when there is no
/// such process in this `/proc`, as for the parent "0" of a namespace's init.
pub fn comm(pid: i32) -> Option<String> {
    if pid <= 0 {
        return None;
    }
    let text = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(text.trim_end_matches('\n').to_string())
}

/// What foster reads of `/proc/PID/stat` (proc(5)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The one-letter state: `R`, `S`, `Z` for a zombie, …
    pub state: char,
    /// The parent's PID (field 4).
    pub parent: i32,
    /// When the process started, in clock ticks after boot (field 22).
    /// With the PID it tells one process from a later one with the same
    /// number: the kernel hands out PIDs in turn (alloc_pid, kernel/pid.c),
    /// so a PID comes back only after all the others have been used, which
    /// within one tick (a hundredth of a second) would take a tiny
    /// `pid_max` and a storm of forks.
    pub start_time: u64,
}

/// Process `pid`'s [`Stat`], `None` when this `/proc` has no such process.
/// The command name in that line is in parentheses and may itself contain
/// spaces or `)`, so the fields are read after the *last* `)`.
pub fn stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = text.get(text.rfind(')')?.checked_add(1)?..)?;
    // Fields from 3 (the state) on: field N is at index N - 3.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        parent: fields.get(1)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// The one-letter state of process `pid` (`R`, `S`, `Z` for a zombie, …).
pub fn state(pid: i32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// Whether `/proc` is the procfs of the caller's own PID namespace, where
/// PIDs mean what they mean to the caller. A container may see the host's
/// `/proc` (mounted in, or never replaced), or none at all; then
/// `/proc/self` is another number, or nothing (proc(5), /proc/self).
/// `Err` says which, for a message.
pub fn is_own() -> Result<(), String> {
    let me = nix::unistd::getpid().as_raw();
    match pid_in_proc() {
        Ok(Some(pid)) if pid == me => Ok(()),
        Ok(seen) => Err(format!(
            "/proc belongs to another PID namespace (/proc/self is {}, not {me})",
            seen.map_or("unreadable".into(), |pid| pid.to_string())
        )),
        Err(e) => Err(format!("/proc/self: {e}")),
    }
}

/// The number `/proc/self/stat` starts with: the caller's PID in the PID
/// namespace of whoever mounted this `/proc` (proc(5)). Read into a small
/// buffer on the stack: foster asks once, at start, where an allocation
/// costs more than the system calls.
fn pid_in_proc() -> nix::Result<Option<i32>> {
    let stat = open(
        "/proc/self/stat",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut start = [0u8; 16];
    let length = read(&stat, &mut start)?;
    let text = std::str::from_utf8(start.get(..length).unwrap_or_default()).unwrap_or_default();
    Ok(text.split(' ').next().and_then(|pid| pid.parse().ok()))
}

/// How many times process `pid` has gone to sleep in the kernel and been
/// woken up (`voluntary_ctxt_switches` in `/proc/PID/status`, proc(5)).
pub fn voluntary_switches(pid: i32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|count| count.trim().parse().ok())
}

/// Every PID listed in this `/proc`: the processes of the PID namespace that
/// mounted it.
pub fn pids() -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The children of process `pid`: the union of
/// `/proc/PID/task/TID/children` over its threads (proc(5); the kernel
/// needs CONFIG_PROC_CHILDREN), since each file lists only the children
/// that one thread forked. Empty when the process or the files are missing.
pub fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| fs::read_to_string(task.ok()?.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|child| child.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// Every process below `ancestor` in this `/proc` (its children, their
/// children, and so on, found by following each process's parent link),
/// with each one's [`Stat::start_time`], which tells that process from a
/// later one that reuses its PID.
pub fn family_below(ancestor: i32) -> Vec<(i32, u64)> {
    let family: Vec<(i32, Stat)> = pids()
        .into_iter()
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect();
    let mut found = Vec::new();
    let mut frontier = vec![ancestor];
    while let Some(parent) = frontier.pop() {
        for (pid, stat) in family.iter().filter(|(_, stat)| stat.parent == parent) {
            found.push((*pid, stat.start_time));
            frontier.push(*pid);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_is_alive_in_proc() {
        let me = std::process::id() as i32;
        // The main thread of a test binary sleeps while tests run: R or S.
        assert!(matches!(state(me), Some('R' | 'S')), "{:?}", state(me));
        assert_eq!(state(i32::MAX), None);
        assert_eq!(
            stat(me).map(|s| s.parent),
            Some(nix::unistd::getppid().as_raw())
        );
        assert!(pids().contains(&me));
        assert!(stat(me).is_some_and(|s| s.start_time > 0));
        assert_eq!(is_own(), Ok(()));
        assert!(voluntary_switches(me).is_some());
    }

    #[test]
    fn a_spawned_child_is_listed_below_us() {
        let me = std::process::id() as i32;
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("start sleep");
        let pid = child.id() as i32;
        assert!(children(me).contains(&pid), "{:?}", children(me));
        assert!(family_below(me).iter().any(|&(below, _)| below == pid));
        assert!(family_below(pid).is_empty());
        let _ = child.kill();
        let _ = child.wait();
        assert!(!children(me).contains(&pid));
    }
}
