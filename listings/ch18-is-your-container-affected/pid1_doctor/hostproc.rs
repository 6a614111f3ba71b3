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

/// rt_sigtimedwait(2)'s number in `/proc/PID/syscall` on this machine.
#[cfg(target_arch = "x86_64")]
const RT_SIGTIMEDWAIT: Option<u64> = Some(128);
#[cfg(target_arch = "aarch64")]
const RT_SIGTIMEDWAIT: Option<u64> = Some(137);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const RT_SIGTIMEDWAIT: Option<u64> = None;

/// The signals the main thread of `host_pid` waits for in
/// rt_sigtimedwait(2) now, as a mask (bit N-1 for signal N); 0 when it is
/// not waiting so, `None` when that may not be read. `/proc/PID/syscall`
/// names the call it sleeps in and its arguments, the first of which
/// points to the set, which `/proc/PID/mem` shows (both need the right to
/// ptrace the process, proc(5)). A thread between two waits is looked at
/// again, a few times.
pub fn awaited_signals(host_pid: i32) -> Option<u64> {
    for _ in 0..5 {
        let text = std::fs::read_to_string(format!("/proc/{host_pid}/syscall")).ok()?;
        match parse_syscall(&text) {
            Some((number, set)) if Some(number) == RT_SIGTIMEDWAIT => {
                return read_set(host_pid, set);
            }
            Some(_) => return Some(0),
            // "running": on a CPU, in no system call.
            None => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    Some(0)
}

/// The system call number and first argument of a `/proc/PID/syscall`
/// line (`128 0x7fffcdbbe230 …`); `None` for `running`.
fn parse_syscall(text: &str) -> Option<(u64, u64)> {
    let mut words = text.split_whitespace();
    let number = words.next()?.parse().ok()?;
    let first = words.next()?.trim_start_matches("0x");
    Some((number, u64::from_str_radix(first, 16).ok()?))
}

/// The eight bytes of a signal set at `address` in the memory of `host_pid`.
fn read_set(host_pid: i32, address: u64) -> Option<u64> {
    use std::os::unix::fs::FileExt;
    let memory = std::fs::File::open(format!("/proc/{host_pid}/mem")).ok()?;
    let mut bytes = [0u8; 8];
    memory.read_exact_at(&mut bytes, address).ok()?;
    Some(u64::from_ne_bytes(bytes))
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
    fn a_system_call_and_its_first_argument() {
        let line = "128 0x7fffcdbbe230 0x7fffcdbbe160 0x4ab020 0x8 0x7 0x4c5f6d0 0x7fffcdbbe130 0x40a2bf\n";
        assert_eq!(parse_syscall(line), Some((128, 0x7fffcdbbe230)));
        assert_eq!(parse_syscall("running\n"), None);
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
