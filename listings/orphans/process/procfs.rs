//! Reading processes in `/proc` (proc(5)). foster's own readers
//! (`foster::procfs`: a process's name, state, parent and children) are
//! used as they are and offered here under the same names, so that the
//! book has one place to look; what only the book reads lives here, out of
//! the init that must stay small.

use std::ffi::CStr;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::read;

pub use foster::procfs::{children, comm, family_below, pids, stat, state, Stat};

/// The parent PID of process `pid`, `None` when this `/proc` has no such
/// process.
pub fn parent_of(pid: i32) -> Option<i32> {
    stat(pid).map(|s| s.parent)
}

/// Every process below `ancestor` in this `/proc`: its children, their
/// children, and so on, found by following each process's parent link.
pub fn descendants(ancestor: i32) -> Vec<i32> {
    family_below(ancestor)
        .into_iter()
        .map(|(pid, _)| pid)
        .collect()
}

/// `first` and all its descendants, parents before their children, found
/// through the children files ([`children`]).
pub fn tree_of(first: i32) -> Vec<i32> {
    let mut found = vec![first];
    let mut next = 0;
    while let Some(&pid) = found.get(next) {
        found.extend(children(pid));
        next += 1;
    }
    found
}

/// The number that follows `KEY:` on a line of `/proc/PID/status` (proc(5)):
/// `status_field(pid, "VmRSS")` is the resident memory in KiB,
/// `status_field(pid, "voluntary_ctxt_switches")` a count. `key` is the name
/// without its colon and must match a whole name. `None` when the process is
/// gone, the line is missing, or its value does not start with a number.
pub fn status_field(pid: i32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_field(&status, key)
}

/// [`status_field`] on the text of a status file.
fn parse_status_field(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.split_once(':').filter(|(name, _)| *name == key))?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The first number of the `NSpid:` line in the status file at `path`
/// (normally `/proc/self/status`): the PID in the namespace of whoever
/// mounted that procfs. Outside any container, and through a procfs mounted
/// by the host, that is the PID the host sees.
///
/// Only async-signal-safe calls (open, read, close) and a stack buffer, so a
/// forked child may call it before it exits (signal-safety(7)).
pub fn first_nspid(path: &CStr) -> Option<i32> {
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).ok()?;
    let mut buf = [0u8; 4096];
    let mut len = 0;
    while len < buf.len() {
        match read(&fd, &mut buf[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    // Dropping the OwnedFd closes it: close(2) is async-signal-safe too.
    drop(fd);
    parse_first_nspid(&buf[..len])
}

/// Finds `NSpid:` at the start of a line of `status` and parses the number
/// after it, without allocating.
fn parse_first_nspid(status: &[u8]) -> Option<i32> {
    const KEY: &[u8] = b"NSpid:";
    let start = status
        .windows(KEY.len())
        .enumerate()
        .find(|&(at, window)| window == KEY && (at == 0 || status[at - 1] == b'\n'))?
        .0
        + KEY.len();
    let mut value: Option<i32> = None;
    for &byte in &status[start..] {
        match byte {
            b' ' | b'\t' if value.is_none() => continue,
            // Checked: a number too large for a PID is no PID.
            b'0'..=b'9' => {
                let digit = i32::from(byte - b'0');
                value = Some(value.unwrap_or(0).checked_mul(10)?.checked_add(digit)?);
            }
            _ => break,
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspid_takes_the_first_of_several() {
        let status = b"Name:\tprobe\nPid:\t1\nNSpid:\t48213\t7\t1\nNSpgid:\t1\n";
        assert_eq!(parse_first_nspid(status), Some(48213));
    }

    #[test]
    fn nspid_missing_is_none() {
        assert_eq!(parse_first_nspid(b"Name:\tx\nPid:\t5\n"), None);
        assert_eq!(parse_first_nspid(b"NSpid:\t99999999999\n"), None);
        assert_eq!(parse_first_nspid(b"XNSpid:\t5\n"), None);
    }

    #[test]
    fn our_parent_is_our_parent() {
        let me = std::process::id() as i32;
        assert_eq!(parent_of(me), Some(nix::unistd::getppid().as_raw()));
        assert_eq!(parent_of(i32::MAX), None);
    }

    #[test]
    fn a_grandchild_is_below_us_and_below_its_parent() {
        let me = std::process::id() as i32;
        // A shell that waits for its own child: a grandchild of ours.
        let mut shell = std::process::Command::new("sh")
            .args(["-c", "sleep 5 & wait"])
            .spawn()
            .expect("start sh");
        let parent = shell.id() as i32;
        let sleep = orphans::process::deadline::poll_until(
            std::time::Duration::from_secs(5),
            orphans::process::deadline::TICK,
            || children(parent).first().copied(),
        )
        .expect("the shell starts sleep");
        let below = descendants(me);
        assert!(
            below.contains(&parent) && below.contains(&sleep),
            "{below:?}"
        );
        assert_eq!(tree_of(parent), [parent, sleep]);
        assert_eq!(tree_of(me).first(), Some(&me));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(sleep),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = shell.wait();
        assert!(!tree_of(me).contains(&parent));
    }

    #[test]
    fn status_fields_match_whole_names() {
        let status = "Name:\tx\nVmRSS:\t  368 kB\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t2\n";
        assert_eq!(parse_status_field(status, "VmRSS"), Some(368));
        assert_eq!(
            parse_status_field(status, "voluntary_ctxt_switches"),
            Some(7)
        );
        assert_eq!(parse_status_field(status, "ctxt_switches"), None);
        assert_eq!(parse_status_field(status, "Name"), None);
        let me = std::process::id() as i32;
        assert_eq!(status_field(me, "Pid"), Some(me as u64));
        assert_eq!(status_field(i32::MAX, "Pid"), None);
    }
}
