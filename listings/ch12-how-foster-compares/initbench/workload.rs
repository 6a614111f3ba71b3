//! The programs initbench runs inside the namespaces it measures, as hidden
//! subcommands of its own binary, so that nothing else needs installing:
//!
//! - `initbench orphans steady|burst N`: the init's child, which makes
//!   orphans and reports what the init did with them;
//! - `initbench recorder`: the init's child, which stamps every signal it
//!   reads.
//!
//! The floor, `initbench relay`, is in `relay.rs`.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe, read, ForkResult};
use orphans::cli::{fail, usage_error};
use orphans::initbench::bench::monotonic_ns;
use orphans::process::exit_now;
use orphans::process::procfs;

/// How to call the subcommands; they are run by the benchmark, not by hand.
const USAGE: &str = "\
usage: initbench orphans steady|burst N
       initbench recorder";

/// What the orphan workload saw: the init's CPU time while it reaped
/// `orphans` orphans, the most zombies at once, and the zombies left.
#[derive(Debug, PartialEq)]
pub struct OrphansReport {
    pub cpu_ns: u64,
    pub orphans: usize,
    pub peak_zombies: usize,
    pub zombies_left: usize,
}

impl OrphansReport {
    pub fn cpu_us_per_orphan(&self) -> f64 {
        self.cpu_ns as f64 / self.orphans.max(1) as f64 / 1e3
    }
}

// ANCHOR: workload
/// The orphan workload, run as the init's child inside the namespace:
/// `initbench orphans steady|burst N`. Prints one line of `key=value`.
pub fn orphans(args: Vec<String>) {
    let (Some(mode), Some(count)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        usage_error(
            "initbench orphans",
            &"expected steady|burst and a count",
            USAGE,
        )
    };
    let cpu_before = init_cpu_ns();
    let mut peak = 0;
    match mode.as_str() {
        "steady" => {
            for made in 0..count {
                make_orphan(None);
                if made % 64 == 0 {
                    peak = peak.max(count_zombies());
                }
            }
        }
        "burst" => {
            let (gate_rx, gate_tx) =
                pipe().unwrap_or_else(|e| fail("initbench", 1, &format!("pipe: {e}")));
            for _ in 0..count {
                make_orphan(Some((&gate_rx, &gate_tx)));
            }
            drop(gate_tx); // every orphan's read now returns: they exit at once
        }
        other => usage_error(
            "initbench orphans",
            &format!("unknown mode '{other}'"),
            USAGE,
        ),
    }
    let left = wait_for_no_zombies(&mut peak);
    let cpu = init_cpu_ns_once_asleep().saturating_sub(cpu_before);
    println!("cpu_ns={cpu} orphans={count} peak_zombies={peak} zombies_left={left}");
}

/// Double fork: a middle process starts the orphan and exits at once, so
/// the orphan is handed to PID 1. With a gate, the orphan first waits for
/// the gate's write end to close.
pub fn make_orphan(gate: Option<(&OwnedFd, &OwnedFd)>) {
    // SAFETY: this workload is single-threaded; the middle process and the
    // orphan only fork, close, read and _exit (all async-signal-safe).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // SAFETY: as above, in the middle process.
            if let Ok(ForkResult::Child) = unsafe { fork() } {
                if let Some((rx, tx)) = gate {
                    // Close our copy of the write end, or EOF never comes.
                    drop_write_end(tx);
                    let _ = read(rx.as_fd(), &mut [0u8; 1]);
                }
                exit_now(0);
            }
            exit_now(0);
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = waitpid(child, None);
        }
        Err(e) => fail("initbench", 1, &format!("fork: {e}")),
    }
}
// ANCHOR_END: workload

/// Parses the orphan workload's one-line report `key=value key=value …`.
pub fn parse_orphans_report(text: &str) -> Option<OrphansReport> {
    let field = |key: &str| -> Option<u64> {
        text.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| *name == key)?
            .1
            .parse()
            .ok()
    };
    Some(OrphansReport {
        cpu_ns: field("cpu_ns")?,
        orphans: field("orphans")? as usize,
        peak_zombies: field("peak_zombies")? as usize,
        zombies_left: field("zombies_left")? as usize,
    })
}

/// Closes the write end of the gate in a forked orphan (its copy of the
/// descriptor, inherited from the workload).
fn drop_write_end(tx: &OwnedFd) {
    use std::os::fd::AsRawFd;
    let _ = nix::unistd::close(tx.as_raw_fd());
}

/// PID 1's time on the CPU so far, in nanoseconds: the first field of
/// `/proc/1/schedstat` (sched_info, kernel/sched/stats.c).
fn init_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/1/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The init's CPU time, read once it sleeps again. `/proc/PID/schedstat`
/// shows the time the scheduler has booked, and for a task that is on a
/// CPU right now that leaves out its current stretch (proc_pid_schedstat,
/// fs/proc/base.c, prints `se.sum_exec_runtime` as it stands; the stretch
/// is added when the task leaves the CPU). Read while the init was still
/// reaping on the other CPU, the last zombies gone but its loop not yet
/// over, a burst's figure missed much of its work. So wait until
/// `/proc/1/stat` no longer says R (1 s at most).
fn init_cpu_ns_once_asleep() -> u64 {
    let deadline = Instant::now() + Duration::from_secs(1);
    while procfs::state(1) == Some('R') && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(100));
    }
    init_cpu_ns()
}

/// Zombies in this namespace right now (state `Z` in `/proc/PID/stat`).
fn count_zombies() -> usize {
    procfs::pids()
        .into_iter()
        .filter(|pid| procfs::state(*pid) == Some('Z'))
        .count()
}

/// Samples the zombie count until every orphan is gone, reaped (or 10 s
/// passed); returns how many zombies were left, updating the peak seen.
/// "No zombie" alone is not enough: just after the gate opens, the orphans
/// of a burst have not exited yet, and there is none either.
fn wait_for_no_zombies(peak: &mut usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let me = std::process::id() as i32;
    loop {
        let others: Vec<i32> = procfs::pids()
            .into_iter()
            .filter(|&pid| pid != 1 && pid != me)
            .collect();
        let zombies = others
            .iter()
            .filter(|&&pid| procfs::state(pid) == Some('Z'))
            .count();
        *peak = (*peak).max(zombies);
        if others.is_empty() || Instant::now() > deadline {
            return zombies;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The signal recorder, run as the init's child: prints `ready`, then the
/// CLOCK_MONOTONIC time (ns) at which it reads each SIGUSR1; exits on
/// SIGTERM.
pub fn recorder() {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGUSR1);
    mask.add(Signal::SIGTERM);
    let signals = mask
        .thread_block()
        .and_then(|()| SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC))
        .unwrap_or_else(|e| fail("initbench recorder", 1, &format!("signalfd: {e}")));
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "ready").and_then(|()| stdout.flush());
    while let Ok(Some(info)) = signals.read_signal() {
        let now = monotonic_ns();
        if info.ssi_signo == Signal::SIGTERM as u32 {
            return;
        }
        if writeln!(stdout, "{now}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orphans_report_reads_back() {
        let report = parse_orphans_report("cpu_ns=5000 orphans=10 peak_zombies=3 zombies_left=0\n");
        assert_eq!(
            report,
            Some(OrphansReport {
                cpu_ns: 5000,
                orphans: 10,
                peak_zombies: 3,
                zombies_left: 0
            })
        );
        assert_eq!(report.map(|r| r.cpu_us_per_orphan()), Some(0.5));
        assert_eq!(parse_orphans_report("cpu_ns=5000 orphans=10"), None);
    }
}
