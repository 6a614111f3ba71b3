//! System calls per event: which calls an init makes for each orphan it
//! reaps and each signal it forwards, counted as `strace -c` counts them,
//! by stopping the init at the entry of every system call with ptrace(2).
//! initbench is the init's ancestor, so it may trace it even where
//! ptrace is restricted to ancestors (Yama's `ptrace_scope` 1).

use std::collections::BTreeMap;
use std::process::{Child, Stdio};

use foster::status::{reap, Status, Wait};
use nix::sys::ptrace::{self, Options};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use orphans::initbench::bench::{first_child, progress, Bench};
use orphans::initbench::plan::{Init, Measure};

/// One init's system calls per event: `(name, calls per event)`, most
/// frequent first, for an orphan reaped and for a signal forwarded.
#[derive(Clone, Debug, Default)]
pub struct Calls {
    pub init: String,
    pub per_orphan: Vec<(String, f64)>,
    pub per_signal: Vec<(String, f64)>,
}

// ANCHOR: syscalls
/// Every init's system calls per event: the calls made during the larger
/// paced workload minus those of the smaller one, over the difference in
/// events, so that the start and the end cancel out.
pub fn syscalls(bench: &Bench) -> Vec<Calls> {
    let [small, large] = bench.plan.paced;
    progress(&format!("system calls: traced, {small} and {large} events"));
    let mut all = Vec::new();
    for init in bench.turns(Measure::Syscalls, 0) {
        let mut calls = Calls {
            init: init.name.clone(),
            ..Calls::default()
        };
        for kind in ["orphans", "signals"] {
            let count = |n: usize| traced_run(bench, init, kind, n);
            let Some(per_event) = count(small)
                .zip(count(large))
                .map(|(few, many)| per_event(&few, &many, large - small))
            else {
                progress(&format!("{}: the {kind} trace failed", init.name));
                continue;
            };
            match kind {
                "orphans" => calls.per_orphan = per_event,
                _ => calls.per_signal = per_event,
            }
        }
        all.push(calls);
    }
    all
}
// ANCHOR_END: syscalls

/// `many` minus `few`, by name, over `events`: the calls per event,
/// leaving out what is below one call in twenty events (a timer that
/// fired during one run and not the other, say).
fn per_event(
    few: &BTreeMap<String, u64>,
    many: &BTreeMap<String, u64>,
    events: usize,
) -> Vec<(String, f64)> {
    let mut calls: Vec<(String, f64)> = many
        .iter()
        .map(|(name, &count)| {
            let before = few.get(name).copied().unwrap_or(0);
            let extra = count.saturating_sub(before) as f64;
            (name.clone(), extra / events.max(1) as f64)
        })
        .filter(|(_, per_event)| *per_event >= 0.05)
        .collect();
    // Most calls first; a tie by name, whatever a stray call adds.
    let tenths = |count: f64| (count * 10.0).round() as i64;
    calls.sort_by(|a, b| tenths(b.1).cmp(&tenths(a.1)).then(a.0.cmp(&b.0)));
    calls
}

/// Runs `initbench paced KIND N --after-stdin` under `init`, traces the
/// init from its first event to its exit, and counts its system calls by
/// name. `None` if anything failed.
fn traced_run(bench: &Bench, init: &Init, kind: &str, n: usize) -> Option<BTreeMap<String, u64>> {
    let n = n.to_string();
    let mut namespace = bench
        .workload(Some(init), &["paced", kind, &n, "--after-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // The init, once it has started its child (so it is past its execve).
    let pid1 = first_child(namespace.id() as i32).filter(|&pid1| first_child(pid1).is_some());
    let counts = pid1.and_then(|pid1| {
        let traced = Pid::from_raw(pid1);
        attach(traced).ok()?;
        // The workload starts at the end of its stdin.
        drop(namespace.stdin.take());
        count_until_exit(traced)
    });
    finish(namespace, counts)
}

/// Seizes `pid` (its tracer from now on: ptrace(2), PTRACE_SEIZE), stops it
/// and lets it run on to its next system call. PTRACE_O_EXITKILL: should
/// initbench die, the init dies with it rather than stay stopped.
fn attach(pid: Pid) -> nix::Result<()> {
    ptrace::seize(
        pid,
        Options::PTRACE_O_TRACESYSGOOD | Options::PTRACE_O_EXITKILL,
    )?;
    ptrace::interrupt(pid)?;
    reap(pid.as_raw(), Wait::Block)?;
    ptrace::syscall(pid, None)
}

/// Counts the system calls `pid` enters until it exits. A stop at a
/// system call reports SIGTRAP | 0x80 (PTRACE_O_TRACESYSGOOD);
/// PTRACE_GET_SYSCALL_INFO says whether it is the entry or the exit, on
/// every architecture. Any other stop is resumed, with its signal if it
/// was one (a stop of PTRACE_INTERRUPT's kind reports a plain SIGTRAP).
fn count_until_exit(pid: Pid) -> Option<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    loop {
        let resend = match reap(pid.as_raw(), Wait::Block).ok()??.status {
            Status::Stopped(0x85) => {
                if let Some(number) = entered(pid) {
                    *counts.entry(syscall_name(number)).or_insert(0) += 1;
                }
                None
            }
            Status::Stopped(signal) if signal != libc::SIGTRAP => Signal::try_from(signal).ok(),
            Status::Stopped(_) | Status::Continued => None,
            Status::Exited(_) | Status::Killed { .. } => return Some(counts),
        };
        ptrace::syscall(pid, resend).ok()?;
    }
}

/// The number of the system call `pid` is stopped entering; `None` at
/// its exit. (nix and libc have PTRACE_GET_SYSCALL_INFO for glibc only;
/// initbench built for musl, which only the project's image holds, counts
/// nothing.)
#[cfg(target_env = "gnu")]
fn entered(pid: Pid) -> Option<i64> {
    let info = ptrace::syscall_info(pid).ok()?;
    if info.op != libc::PTRACE_SYSCALL_INFO_ENTRY {
        return None;
    }
    // SAFETY: at an entry stop the kernel fills the `entry` member of the
    // union (ptrace(2), PTRACE_GET_SYSCALL_INFO), plain integers.
    let number = unsafe { info.u.entry.nr };
    i64::try_from(number).ok()
}

#[cfg(not(target_env = "gnu"))]
fn entered(_: Pid) -> Option<i64> {
    None
}

/// Waits for the namespace to end (SIGKILL to it if the trace failed) and
/// hands back the counts.
fn finish(
    mut namespace: Child,
    counts: Option<BTreeMap<String, u64>>,
) -> Option<BTreeMap<String, u64>> {
    if counts.is_none() {
        let _ = namespace.kill();
    }
    let status = namespace.wait().ok()?;
    counts.filter(|_| status.success())
}

/// A system call's name for the table, from the C library's numbers for
/// this machine; the calls an init makes in its loop are all here.
fn syscall_name(number: i64) -> String {
    let known: &[(i64, &str)] = &[
        (libc::SYS_read, "read"),
        (libc::SYS_write, "write"),
        (libc::SYS_wait4, "wait4"),
        (libc::SYS_waitid, "waitid"),
        (libc::SYS_kill, "kill"),
        (libc::SYS_tgkill, "tgkill"),
        (libc::SYS_rt_sigtimedwait, "rt_sigtimedwait"),
        (libc::SYS_rt_sigprocmask, "rt_sigprocmask"),
        (libc::SYS_rt_sigaction, "rt_sigaction"),
        (libc::SYS_rt_sigreturn, "rt_sigreturn"),
        (libc::SYS_restart_syscall, "restart_syscall"),
        (libc::SYS_ppoll, "ppoll"),
        (libc::SYS_epoll_pwait, "epoll_pwait"),
        (libc::SYS_pidfd_send_signal, "pidfd_send_signal"),
        (libc::SYS_openat, "openat"),
        (libc::SYS_close, "close"),
        (libc::SYS_getpid, "getpid"),
        (libc::SYS_getppid, "getppid"),
        (libc::SYS_clock_nanosleep, "clock_nanosleep"),
        (libc::SYS_nanosleep, "nanosleep"),
        (libc::SYS_futex, "futex"),
        #[cfg(target_arch = "x86_64")]
        (libc::SYS_poll, "poll"),
        #[cfg(target_arch = "x86_64")]
        (libc::SYS_select, "select"),
    ];
    known
        .iter()
        .find(|(known, _)| *known == number)
        .map_or_else(|| format!("syscall {number}"), |(_, name)| name.to_string())
}

/// "1 read, 2 wait4": one cell of the table.
pub fn cell(calls: &[(String, f64)]) -> String {
    if calls.is_empty() {
        return "—".into();
    }
    let one = |(name, count): &(String, f64)| {
        if (count - count.round()).abs() < 0.05 {
            format!("{} {name}", count.round())
        } else {
            format!("{count:.2} {name}")
        }
    };
    calls.iter().map(one).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_per_event_are_differences() {
        let few = BTreeMap::from([("read".to_string(), 30), ("wait4".to_string(), 50)]);
        let many = BTreeMap::from([
            ("read".to_string(), 130),
            ("wait4".to_string(), 250),
            ("kill".to_string(), 1),
        ]);
        let calls = per_event(&few, &many, 100);
        assert_eq!(
            calls,
            vec![("wait4".to_string(), 2.0), ("read".to_string(), 1.0)]
        );
        assert_eq!(cell(&calls), "2 wait4, 1 read");
        assert_eq!(cell(&[("read".into(), 1.5)]), "1.50 read");
        assert_eq!(cell(&[]), "—");
        assert_eq!(syscall_name(libc::SYS_kill), "kill");
        assert_eq!(syscall_name(100_000), "syscall 100000");
    }
}
