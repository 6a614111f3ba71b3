//! At scale (`--measures scale`): how long an init takes to stop 10,000
//! processes left behind when its command exits, against tini `-g` and
//! against the cgroup v2 way (`cgroup.kill`); and 100,000 orphans in waves
//! of 1,000 that exit at once: the time, the most zombies seen, and the
//! init's memory before and after.
//!
//! The workloads are hidden subcommands: `initbench leftovers N` starts N
//! processes that wait, says `ready` and waits for SIGTERM;
//! `initbench waves TOTAL WAVE` makes the orphans and reports.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, SigSet, Signal};
use nix::unistd::{fork, pause, pipe, read, ForkResult, Pid};
use orphans::cli::{fail, usage_error};
use orphans::initbench::bench::{millis, progress, stop_namespace, wait_with_deadline, Bench};
use orphans::initbench::plan::{Init, Role};
use orphans::initbench::stats::{median, Figures};
use orphans::process::exit_now;
use orphans::process::procfs::{self, status_field};

/// Processes left behind when the command exits.
pub const LEFTOVERS: usize = 10_000;
/// How many times each way of stopping them is timed (the median is kept).
pub const STOPS: usize = 3;
/// Orphans in all, and how many exit at once.
pub const ORPHANS: usize = 100_000;
pub const WAVE: usize = 1_000;

const USAGE: &str = "usage: initbench leftovers N\n       initbench waves TOTAL WAVE";

/// The label of the `cgroup.kill` row.
pub const CGROUP_KILL: &str = "cgroup.kill";

/// The scale rows, under labels: foster and `tini -g` stopping
/// [`LEFTOVERS`] processes, `cgroup.kill` doing the same, and foster and
/// tini-static reaping [`ORPHANS`] orphans in waves.
pub fn scale(bench: &Bench) -> Figures {
    let mut figures = Figures::default();
    let foster = bench
        .inits
        .iter()
        .copied()
        .find(|init| init.role == Role::Foster);
    let tini = bench
        .inits
        .iter()
        .copied()
        .find(|init| init.name == "tini-static");
    let tini_g = tini.map(|tini| Init {
        name: "tini -g".into(),
        path: tini.path.clone(),
        args: vec!["-g".into()],
        role: Role::Peer,
    });
    progress(&format!(
        "scale: stopping {LEFTOVERS} processes left behind, {STOPS} times each way"
    ));
    // Taking turns, so that what the machine does meanwhile falls on all.
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..STOPS {
        let ways = [
            (foster, Stop::Sigterm),
            (tini_g.as_ref(), Stop::Sigterm),
            (foster, Stop::CgroupKill),
        ];
        for (slot, (init, stop)) in ways.into_iter().enumerate() {
            let time = init.and_then(|init| stop_leftovers(bench, init, stop));
            times[slot].extend(time);
        }
    }
    let labels = [
        foster.map(|init| init.name.as_str()),
        tini_g.as_ref().map(|init| init.name.as_str()),
        Some(CGROUP_KILL),
    ];
    for (label, samples) in labels.into_iter().zip(&times) {
        match label {
            Some(label) if !samples.is_empty() => {
                figures.record(label, "leftovers_exit_ms", median(samples))
            }
            Some(CGROUP_KILL) => progress("scale: no cgroup v2 with cgroup.kill here"),
            _ => {}
        }
    }
    progress(&format!("scale: {ORPHANS} orphans in waves of {WAVE}"));
    for init in foster.into_iter().chain(tini) {
        if let Some(report) = waves_under(bench, init) {
            for (key, value) in report {
                figures.record(&init.name, key, value);
            }
        }
    }
    figures
}

/// How the processes are stopped.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    /// SIGTERM to the init, as `docker stop` sends it.
    Sigterm,
    /// `1` written to the `cgroup.kill` of a cgroup v2 holding them all.
    CgroupKill,
}

/// Milliseconds from the stop to the end of the namespace, with
/// [`LEFTOVERS`] processes besides the command.
fn stop_leftovers(bench: &Bench, init: &Init, stop: Stop) -> Option<f64> {
    let group = match stop {
        Stop::CgroupKill => Some(KillGroup::enter()?),
        Stop::Sigterm => None,
    };
    let command = bench.workload(Some(init), &["leftovers", &LEFTOVERS.to_string()]);
    let started = bench.start_supervising(init, command);
    // Back to our own cgroup: only the namespace stays in the new one.
    let group = group.map(KillGroup::leave);
    let (mut namespace, pid1) = started?;
    if !ready(&mut namespace) {
        stop_namespace(namespace, pid1);
        return None;
    }
    let begun = Instant::now();
    let stopped = match &group {
        Some(group) => group.kill(),
        None => kill(Pid::from_raw(pid1), Signal::SIGTERM).is_ok(),
    };
    let ended = stopped && wait_with_deadline(&mut namespace, Duration::from_secs(60));
    let elapsed = millis(begun.elapsed());
    if !ended {
        stop_namespace(namespace, pid1);
    }
    drop(group);
    ended.then_some(elapsed)
}

/// Whether the workload said `ready` (every process started).
fn ready(namespace: &mut Child) -> bool {
    let Some(stdout) = namespace.stdout.take() else {
        return false;
    };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).is_ok() && line.trim() == "ready"
}

/// A cgroup v2 of its own for one namespace, so that `cgroup.kill` (Linux
/// 5.14) reaches all of it and nothing else.
struct KillGroup {
    dir: std::path::PathBuf,
    home: std::path::PathBuf,
}

impl KillGroup {
    /// Makes the group and moves initbench into it, so that the next
    /// process it starts is born there; `None` without cgroup v2, without
    /// `cgroup.kill`, or without the right to make a cgroup.
    fn enter() -> Option<KillGroup> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let mount = mountinfo.lines().find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let dash = fields.iter().position(|&f| f == "-")?;
            (fields.get(dash + 1) == Some(&"cgroup2")).then(|| fields.get(4).copied())?
        })?;
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let own = own.lines().find_map(|line| line.strip_prefix("0::"))?;
        let home = std::path::Path::new(mount).join(own.trim_start_matches('/'));
        let dir =
            std::path::Path::new(mount).join(format!("initbench-kill-{}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        let group = KillGroup { dir, home };
        let entered = group.dir.join("cgroup.kill").exists()
            && std::fs::write(
                group.dir.join("cgroup.procs"),
                std::process::id().to_string(),
            )
            .is_ok();
        entered.then_some(group)
    }

    /// Moves initbench back where it was, leaving the group to the
    /// namespace.
    fn leave(self) -> KillGroup {
        let _ = std::fs::write(
            self.home.join("cgroup.procs"),
            std::process::id().to_string(),
        );
        self
    }

    /// SIGKILL to every process in the group (cgroups(7), cgroup.kill).
    fn kill(&self) -> bool {
        std::fs::write(self.dir.join("cgroup.kill"), "1").is_ok()
    }
}

impl Drop for KillGroup {
    fn drop(&mut self) {
        let _ = std::fs::write(
            self.home.join("cgroup.procs"),
            std::process::id().to_string(),
        );
        // Empty once the namespace is gone; a group still in use stays.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Runs `initbench waves ORPHANS WAVE` under `init`: its figures.
fn waves_under(bench: &Bench, init: &Init) -> Option<Vec<(&'static str, f64)>> {
    let output = bench
        .workload(
            Some(init),
            &["waves", &ORPHANS.to_string(), &WAVE.to_string()],
        )
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |key: &str| -> Option<f64> {
        text.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| *name == key)?
            .1
            .parse()
            .ok()
    };
    Some(vec![
        ("waves_s", field("seconds")?),
        ("waves_peak_zombies", field("peak_zombies")?),
        ("rss_before_kib", field("rss_before_kib")?),
        ("rss_after_kib", field("rss_after_kib")?),
    ])
}

/// `initbench leftovers N`, the command of the stop rows: N children that
/// wait for a signal, then `ready` on stdout, then a wait of its own.
/// SIGTERM ends each of them (its default action, set here).
pub fn leftovers(args: Vec<String>) {
    let Some(count) = args.first().and_then(|n| n.parse::<usize>().ok()) else {
        usage_error("initbench leftovers", &"expected a count", USAGE)
    };
    let _ = SigSet::all().thread_unblock();
    let _ = foster::sys::set_action(Signal::SIGTERM, false);
    for made in 0..count {
        // SAFETY: single-threaded; the child only waits for a signal.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => loop {
                pause();
            },
            Ok(ForkResult::Parent { .. }) => {}
            Err(e) => fail("initbench leftovers", 1, &format!("fork {made}: {e}")),
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "ready").and_then(|()| stdout.flush());
    loop {
        pause();
    }
}

/// `initbench waves TOTAL WAVE`: TOTAL orphans, WAVE at a time. A middle
/// process starts a wave, every orphan waiting at a gate, and exits, so
/// the wave goes to PID 1; the gate opens and the wave exits at once; the
/// next wave starts when PID 1 has reaped it. Prints the seconds, the most
/// zombies seen at once, and PID 1's resident memory before and after.
pub fn waves(args: Vec<String>) {
    let (Some(total), Some(wave)) = (
        args.first().and_then(|n| n.parse::<usize>().ok()),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        usage_error("initbench waves", &"expected TOTAL and WAVE", USAGE)
    };
    let rss = || status_field(1, "VmRSS").unwrap_or(0);
    let rss_before = rss();
    let begun = Instant::now();
    let mut peak = 0;
    let mut made = 0;
    while made < total {
        let this_wave = wave.min(total - made).max(1);
        one_wave(this_wave).unwrap_or_else(|e| fail("initbench waves", 1, &e));
        peak = peak.max(wait_until_reaped());
        made += this_wave;
    }
    let seconds = begun.elapsed().as_secs_f64();
    println!(
        "seconds={seconds:.3} peak_zombies={peak} rss_before_kib={rss_before} rss_after_kib={}",
        rss()
    );
}

/// One wave: `count` orphans of PID 1, released at once.
fn one_wave(count: usize) -> Result<(), String> {
    let (gate_rx, gate_tx) = pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: single-threaded; the middle process and the orphans only
    // fork, close, read and _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            for _ in 0..count {
                // SAFETY: as above.
                if let Ok(ForkResult::Child) = unsafe { fork() } {
                    let _ = nix::unistd::close(gate_tx.as_raw_fd());
                    let _ = read(gate_rx.as_fd(), &mut [0u8; 1]);
                    exit_now(0);
                }
            }
            exit_now(0)
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = nix::sys::wait::waitpid(child, None);
            drop(gate_tx); // the wave exits
            Ok(())
        }
        Err(e) => Err(format!("fork: {e}")),
    }
}

/// Waits until PID 1 has no child but this workload, sampling how many
/// of its children are zombies; the most seen.
fn wait_until_reaped() -> usize {
    let me = std::process::id() as i32;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut peak = 0;
    loop {
        let children: Vec<i32> = procfs::children(1)
            .into_iter()
            .filter(|&pid| pid != me)
            .collect();
        let zombies = children
            .iter()
            .filter(|&&pid| procfs::state(pid) == Some('Z'))
            .count();
        peak = peak.max(zombies);
        if children.is_empty() || Instant::now() > deadline {
            return peak;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
