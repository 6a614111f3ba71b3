//! What the host's `/proc` shows of a container's processes (proc(5)).
//!
//! A process in a container has a PID in each PID namespace from the
//! host's down to the container's; the `NSpid:` line of its status file
//! lists them, the host's first, the container's last. Which PID namespace
//! a process is in is the link `/proc/PID/ns/pid` (reading it needs the
//! right to ptrace the process: root, for another user's processes).

use std::io;
use std::path::PathBuf;

use foster::procfs::stat;

/// The text of `/proc/PID/status`.
pub fn status(host_pid: i32) -> io::Result<String> {
    std::fs::read_to_string(format!("/proc/{host_pid}/status"))
}

/// The PIDs of the `NSpid:` line of a status file, the host's first.
pub fn ns_pids(status: &str) -> Vec<i32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("NSpid:"))
        .map(|pids| {
            pids.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The PID a process has in its own (innermost) PID namespace.
pub fn pid_inside(host_pid: i32) -> Option<i32> {
    ns_pids(&status(host_pid).ok()?).last().copied()
}

/// The PID namespace of a process, as its link names it
/// (`pid:[4026532201]`).
pub fn pid_namespace(host_pid: i32) -> io::Result<PathBuf> {
    std::fs::read_link(format!("/proc/{host_pid}/ns/pid"))
}

/// A process's arguments (`/proc/PID/cmdline`, separated by NUL bytes;
/// empty for a zombie, whose memory is gone).
pub fn command_line(host_pid: i32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{host_pid}/cmdline")).unwrap_or_default();
    raw.split(|&byte| byte == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// A process's command name (`/proc/PID/comm`).
pub fn comm(host_pid: i32) -> String {
    foster::procfs::comm(host_pid).unwrap_or_default()
}

/// The last part of the executable's path (`/proc/PID/exe`), if it may be
/// read.
pub fn executable_name(host_pid: i32) -> Option<String> {
    let path = std::fs::read_link(format!("/proc/{host_pid}/exe")).ok()?;
    Some(path.file_name()?.to_string_lossy().into_owned())
}

/// The executable's bytes, up to 64 MiB (an init is far smaller), if they
/// may be read: enough to tell which init hides behind `docker-init`.
pub fn executable(host_pid: i32) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(format!("/proc/{host_pid}/exe")).ok()?;
    let mut bytes = Vec::new();
    file.take(64 << 20).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// A process of a container's PID namespace, as the host sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub host_pid: i32,
    /// Its PID in the container.
    pub pid: i32,
    pub state: char,
    /// The parent's host PID (0 for none).
    pub parent_host_pid: i32,
}

/// Every process of the PID namespace `namespace` (a [`pid_namespace`]
/// link): each host PID whose link is the same.
pub fn members(namespace: &PathBuf) -> Vec<Member> {
    foster::procfs::pids()
        .into_iter()
        .filter(|&pid| pid_namespace(pid).is_ok_and(|ns| &ns == namespace))
        .filter_map(|host_pid| {
            let stat = stat(host_pid)?;
            Some(Member {
                host_pid,
                pid: pid_inside(host_pid)?,
                state: stat.state,
                parent_host_pid: stat.parent,
            })
        })
        .collect()
}

/// The children of a process, by host PID (`/proc/PID/task/*/children`).
pub fn children(host_pid: i32) -> Vec<i32> {
    foster::procfs::children(host_pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspid_lists_the_host_first() {
        let status = "Name:\tsleep\nNSpid:\t48213\t7\nNSpgid:\t1\n";
        assert_eq!(ns_pids(status), vec![48213, 7]);
        assert_eq!(ns_pids("Name:\tx\n"), Vec::<i32>::new());
    }

    #[test]
    fn our_own_process_as_the_host_sees_it() {
        let me = std::process::id() as i32;
        assert!(command_line(me)
            .first()
            .is_some_and(|a| a.contains("pid1_doctor")));
        let own = pid_namespace(me).expect("our own namespace link");
        assert!(own.to_string_lossy().starts_with("pid:["));
        let found = members(&own);
        let mine = found
            .iter()
            .find(|m| m.host_pid == me)
            .expect("us among them");
        assert_eq!(mine.parent_host_pid, nix::unistd::getppid().as_raw());
    }
}
