//! `initbench`: foster against tini, dumb-init and catatonit, side by side.
//!
//! Every init runs as PID 1 of a fresh PID namespace (through `container`),
//! the way a container runtime starts it. The inits are interleaved round by
//! round, so that whatever else the machine is doing hits all of them alike,
//! and every figure is also given as a ratio to tini-static measured in the
//! same run. Timing on a shared machine is noisy: compare the ratios, not the
//! absolute numbers, and never read one run as a verdict.
//!
//! The same binary is also the workload the inits supervise (the hidden
//! subcommands `orphans` and `recorder`), so nothing else needs installing.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use foster::procfs;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::waitpid;
use nix::time::{clock_gettime, ClockId};
use nix::unistd::{fork, pipe, read, ForkResult, Pid};
use orphans::cli::{fail, usage_error};
use orphans::image::has_interpreter;
use orphans::process::exit_now;
use orphans::spawn::sibling;

const USAGE: &str = "\
usage: initbench [--quick] [--json FILE] [--foster PATH] [--init NAME=PATH]...
       [--only NAME[,NAME...]]

Runs each init as PID 1 of a fresh PID namespace and prints a markdown table
of medians, with ratios to tini-static measured in the same run.

  --quick           a short run (about 20 s) for the book and smoke tests
  --json FILE       also write every figure as JSON to FILE ('-': stdout)
  --foster PATH     the foster binary to measure (default: the static build
                    under target/, else the foster next to this program)
  --init NAME=PATH  measure another init (repeatable)
  --only NAMES      measure only these inits (comma-separated)
  -h, --help        show this help

Peers come from Debian: apt-get install tini dumb-init catatonit.
Progress goes to stderr.";

/// How much work each measure does.
struct Plan {
    startup_runs: usize,
    idle_seconds: u64,
    /// Orphans per init in the steady run, and in the burst, each split
    /// over `reap_rounds` interleaved rounds.
    orphans: usize,
    burst: usize,
    reap_rounds: usize,
    signals: usize,
    /// SIGTERM-to-exit measures per init.
    stop_rounds: usize,
}

const QUICK: Plan = Plan {
    startup_runs: 60,
    idle_seconds: 2,
    orphans: 2000,
    burst: 1000,
    reap_rounds: 4,
    signals: 300,
    stop_rounds: 10,
};

const FULL: Plan = Plan {
    startup_runs: 400,
    idle_seconds: 10,
    orphans: 20_000,
    burst: 5000,
    reap_rounds: 10,
    signals: 1000,
    stop_rounds: 100,
};

/// An init to measure; `path` is `None` when it is not installed.
struct Init {
    name: String,
    path: Option<PathBuf>,
}

/// Every figure measured for one init, by measure name.
type Figures = BTreeMap<&'static str, f64>;

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("orphans") => run_orphan_workload(args.collect()),
        Some("recorder") => run_signal_recorder(),
        _ => run_benchmark(),
    }
}

fn run_benchmark() {
    let options = parse_arguments();
    let container = sibling("container");
    if !container.exists() {
        fail(
            "initbench",
            1,
            &format!(
                "{} is missing: run `cargo build --bins` first",
                container.display()
            ),
        );
    }
    let present: Vec<&Init> = options
        .inits
        .iter()
        .filter(|init| init.path.is_some())
        .collect();
    for init in options.inits.iter().filter(|init| init.path.is_none()) {
        progress(&format!("{}: missing, not measured", init.name));
    }
    let bench = Bench {
        container,
        inits: present,
        plan: options.plan,
    };
    let mut figures: BTreeMap<String, Figures> = BTreeMap::new();
    let mut record = |name: &str, measure: &'static str, value: f64| {
        figures
            .entry(name.to_string())
            .or_default()
            .insert(measure, value);
    };
    bench.startup(&mut record);
    bench.idle(&mut record);
    bench.reaping(&mut record);
    bench.forwarding(&mut record);
    bench.stopping(&mut record);
    bench.sizes(&mut record);
    print!("{}", markdown_table(&options.inits, &figures));
    if let Some(file) = options.json {
        write_json(&file, &options.inits, &figures);
    }
}

/// What the command line asked for.
struct Options {
    plan: Plan,
    json: Option<String>,
    inits: Vec<Init>,
}

fn parse_arguments() -> Options {
    use lexopt::prelude::*;
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("initbench", error, USAGE) };
    let mut plan = FULL;
    let mut json = None;
    let mut foster = None;
    let mut extra = Vec::new();
    let mut only: Option<Vec<String>> = None;
    let mut parser = lexopt::Parser::from_env();
    loop {
        let text = |parser: &mut lexopt::Parser| match parser.value().map(|v| v.string()) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => bad(&"arguments must be UTF-8"),
            Err(error) => bad(&error),
        };
        match parser.next() {
            Ok(Some(Short('h') | Long("help"))) => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Ok(Some(Long("quick"))) => plan = QUICK,
            Ok(Some(Long("json"))) => json = Some(text(&mut parser)),
            Ok(Some(Long("foster"))) => foster = Some(PathBuf::from(text(&mut parser))),
            Ok(Some(Long("only"))) => {
                only = Some(text(&mut parser).split(',').map(str::to_string).collect())
            }
            Ok(Some(Long("init"))) => {
                let spec = text(&mut parser);
                let Some((name, path)) = spec.split_once('=') else {
                    bad(&format!("--init takes NAME=PATH, not '{spec}'"))
                };
                extra.push((name.to_string(), PathBuf::from(path)));
            }
            Ok(Some(other)) => bad(&other.unexpected()),
            Ok(None) => break,
            Err(error) => bad(&error),
        }
    }
    let mut inits = standard_inits(foster);
    inits.extend(extra.into_iter().map(|(name, path)| Init {
        name,
        path: Some(path),
    }));
    if let Some(only) = only {
        if let Some(unknown) = only
            .iter()
            .find(|name| !inits.iter().any(|init| &init.name == *name))
        {
            bad(&format!("--only: no init named '{unknown}'"));
        }
        inits.retain(|init| only.contains(&init.name));
    }
    Options { plan, json, inits }
}

/// foster and the peers people use today, each found where it is installed.
fn standard_inits(foster: Option<PathBuf>) -> Vec<Init> {
    let installed = |path: &str| Some(PathBuf::from(path)).filter(|p| p.exists());
    let foster = foster.or_else(find_foster);
    vec![
        Init {
            name: "foster".into(),
            path: foster,
        },
        Init {
            name: "tini-static".into(),
            path: installed("/usr/bin/tini-static"),
        },
        Init {
            name: "tini".into(),
            path: installed("/usr/bin/tini"),
        },
        Init {
            name: "dumb-init".into(),
            path: installed("/usr/bin/dumb-init"),
        },
        Init {
            name: "catatonit".into(),
            path: installed("/usr/bin/catatonit"),
        },
    ]
}

/// The static, size-optimised foster if it was built, else the one built
/// beside this program.
fn find_foster() -> Option<PathBuf> {
    let target = sibling("initbench").parent()?.parent()?.to_path_buf();
    let candidates = [
        target.join("x86_64-unknown-linux-musl/foster/foster"),
        target.join("x86_64-unknown-linux-gnu/foster/foster"),
        target.join("foster/foster"),
        sibling("foster"),
    ];
    candidates.into_iter().find(|path| path.exists())
}

fn progress(message: &str) {
    eprintln!("initbench: {message}");
}

/// The machinery shared by all measures.
struct Bench<'a> {
    container: PathBuf,
    inits: Vec<&'a Init>,
    plan: Plan,
}

/// Milliseconds, or microseconds, between two instants.
fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Bench<'_> {
    /// `container INIT -- CMD...`, or `container CMD...` without an init.
    fn command(&self, init: Option<&Init>, cmd: &[&str]) -> Command {
        let mut command = Command::new(&self.container);
        if let Some(path) = init.and_then(|init| init.path.as_ref()) {
            command.arg(path).arg("--");
        }
        command.args(cmd).stdin(Stdio::null());
        command
    }

    // ANCHOR: startup
    /// Startup overhead: `INIT true` minus `true` alone, both as PID 1 of a
    /// fresh namespace; medians over many runs, interleaved.
    fn startup(&self, record: &mut impl FnMut(&str, &'static str, f64)) {
        progress(&format!(
            "startup: {} runs of each init",
            self.plan.startup_runs
        ));
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); self.inits.len() + 1];
        for _ in 0..self.plan.startup_runs {
            for (slot, init) in std::iter::once(None)
                .chain(self.inits.iter().map(|i| Some(*i)))
                .enumerate()
            {
                let started = Instant::now();
                let status = self.command(init, &["true"]).stdout(Stdio::null()).status();
                if status.is_ok_and(|s| s.success()) {
                    times[slot].push(millis(started.elapsed()));
                }
            }
        }
        let baseline = median(&times[0]);
        record("(none)", "startup_ms", baseline);
        for (init, samples) in self.inits.iter().zip(&times[1..]) {
            if !samples.is_empty() {
                record(
                    &init.name,
                    "startup_overhead_ms",
                    median(samples) - baseline,
                );
            }
        }
    }
    // ANCHOR_END: startup

    // ANCHOR: idle
    /// Idle cost: each init supervises a `sleep`; after a settling moment,
    /// count the init's context switches over a few seconds (each one is a
    /// wake-up) and read its resident memory. All inits idle at once.
    fn idle(&self, record: &mut impl FnMut(&str, &'static str, f64)) {
        progress(&format!(
            "idle: {} s with every init watching a sleep",
            self.plan.idle_seconds
        ));
        let seconds = (self.plan.idle_seconds + 30).to_string();
        let running: Vec<(&Init, Option<(Child, i32)>)> = self
            .inits
            .iter()
            .map(|init| (*init, self.start_supervising(init, &["sleep", &seconds])))
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let before: Vec<Option<u64>> = running
            .iter()
            .map(|(_, r)| r.as_ref().and_then(|(_, pid)| context_switches(*pid)))
            .collect();
        std::thread::sleep(Duration::from_secs(self.plan.idle_seconds));
        for ((init, running), before) in running.into_iter().zip(before) {
            let Some((child, pid)) = running else {
                continue;
            };
            if let (Some(before), Some(after)) = (before, context_switches(pid)) {
                record(&init.name, "idle_wakeups", (after - before) as f64);
            }
            if let Some(rss) = status_field(pid, "VmRSS:") {
                record(&init.name, "idle_rss_kib", rss as f64);
            }
            stop_namespace(child, pid);
        }
    }
    // ANCHOR_END: idle

    /// Starts `container INIT -- CMD` and returns it with the init's PID as
    /// seen from here, once the init has started its own child.
    fn start_supervising(&self, init: &Init, cmd: &[&str]) -> Option<(Child, i32)> {
        let mut child = self
            .command(Some(init), cmd)
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let pid1 = first_child(child.id() as i32);
        match pid1.filter(|pid| first_child(*pid).is_some()) {
            Some(pid) => Some((child, pid)),
            None => {
                progress(&format!("{}: did not start its child", init.name));
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }

    /// Reaping: the init's child makes orphans that exit at once (steady),
    /// or that all exit together (burst). It reads the init's own CPU time
    /// from /proc/1/schedstat before and after, and samples the zombies.
    fn reaping(&self, record: &mut impl FnMut(&str, &'static str, f64)) {
        let rounds = self.plan.reap_rounds.max(1);
        for (mode, total) in [("steady", self.plan.orphans), ("burst", self.plan.burst)] {
            progress(&format!(
                "reaping: {total} orphans per init, {mode}, in {rounds} interleaved rounds"
            ));
            let per_round = (total / rounds).max(1);
            let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); self.inits.len()];
            let mut worst: Vec<(f64, f64)> = vec![(0.0, 0.0); self.inits.len()];
            for _ in 0..rounds {
                for (slot, init) in self.inits.iter().enumerate() {
                    let Some(fields) = self.orphan_workload(init, mode, per_round) else {
                        progress(&format!("{}: the {mode} orphan workload failed", init.name));
                        continue;
                    };
                    cpu[slot].push(fields["cpu_ns"] / fields["orphans"] / 1e3);
                    let (peak, left) = &mut worst[slot];
                    *peak = peak.max(fields["peak_zombies"]);
                    *left = left.max(fields["zombies_left"]);
                }
            }
            let (cpu_key, peak_key, left_key) = match mode {
                "steady" => (
                    "steady_cpu_us_per_orphan",
                    "steady_peak_zombies",
                    "steady_zombies_left",
                ),
                _ => (
                    "burst_cpu_us_per_orphan",
                    "burst_peak_zombies",
                    "burst_zombies_left",
                ),
            };
            for ((init, samples), (peak, left)) in self.inits.iter().zip(&cpu).zip(worst) {
                if !samples.is_empty() {
                    record(&init.name, cpu_key, median(samples));
                    record(&init.name, peak_key, peak);
                    record(&init.name, left_key, left);
                }
            }
        }
    }

    /// Runs `initbench orphans MODE COUNT` under `init`; its report.
    fn orphan_workload(
        &self,
        init: &Init,
        mode: &str,
        count: usize,
    ) -> Option<BTreeMap<String, f64>> {
        let me = sibling("initbench");
        let output = self
            .command(
                Some(init),
                &[&me.to_string_lossy(), "orphans", mode, &count.to_string()],
            )
            .output()
            .ok()
            .filter(|output| output.status.success())?;
        parse_workload_report(&String::from_utf8_lossy(&output.stdout))
    }

    // ANCHOR: forwarding
    /// Forwarding latency: time from kill(init, SIGUSR1) to the moment the
    /// child reads the signal (CLOCK_MONOTONIC on both sides; the clock is
    /// shared by all PID namespaces). The floor is the same signal sent
    /// straight to the child. Then SIGTERM, and time until the init exits.
    fn forwarding(&self, record: &mut impl FnMut(&str, &'static str, f64)) {
        progress(&format!(
            "forwarding: {} signals per init, on both CPUs, then on one",
            self.plan.signals
        ));
        self.forwarding_pass(record, false);
        // On one CPU the figure is the mechanism alone; on several it also
        // holds the scheduler's choice of CPU for each wake-up (waking an
        // idle CPU costs an inter-processor interrupt, and far more in a VM).
        match pinned_to_one_cpu(|| self.forwarding_pass(record, true)) {
            Ok(()) => {}
            Err(e) => progress(&format!("forwarding on one CPU skipped: {e}")),
        }
    }

    /// One round of forwarding measures; `one_cpu` names the figures.
    fn forwarding_pass(&self, record: &mut impl FnMut(&str, &'static str, f64), one_cpu: bool) {
        let keys = if one_cpu {
            [
                "forward_1cpu_median_us",
                "forward_1cpu_p99_us",
                "direct_kill_1cpu_median_us",
                "direct_kill_1cpu_p99_us",
            ]
        } else {
            [
                "forward_median_us",
                "forward_p99_us",
                "direct_kill_median_us",
                "direct_kill_p99_us",
            ]
        };
        let me = sibling("initbench");
        let me = me.to_string_lossy();
        let mut recorders: Vec<(&Init, Child, i32, i32, BufReader<std::process::ChildStdout>)> =
            Vec::new();
        for init in &self.inits {
            let Some((mut child, pid1)) = self.start_supervising(init, &[&me, "recorder"]) else {
                continue;
            };
            let Some(stdout) = child.stdout.take() else {
                continue;
            };
            let mut lines = BufReader::new(stdout);
            let ready = read_line(&mut lines).is_some_and(|line| line == "ready");
            match first_child(pid1) {
                Some(recorder) if ready => recorders.push((init, child, pid1, recorder, lines)),
                _ => stop_namespace(child, pid1),
            }
        }
        let mut through_init: Vec<Vec<f64>> = vec![Vec::new(); recorders.len()];
        let mut direct: Vec<f64> = Vec::new();
        // The order rotates from round to round, so that no init is always
        // the one measured first, or right after the floor.
        let count = recorders.len();
        for round in 0..self.plan.signals {
            for turn in 0..count {
                let slot = (round + turn) % count;
                let (_, _, pid1, recorder, lines) = &mut recorders[slot];
                through_init[slot].extend(signal_latency_us(*pid1, lines));
                if turn == 0 {
                    direct.extend(signal_latency_us(*recorder, lines));
                }
            }
        }
        record("(none)", keys[2], median(&direct));
        record("(none)", keys[3], percentile(&direct, 0.99));
        for ((init, child, pid1, _, _), samples) in recorders.into_iter().zip(through_init) {
            if !samples.is_empty() {
                record(&init.name, keys[0], median(&samples));
                record(&init.name, keys[1], percentile(&samples, 0.99));
            }
            stop_namespace(child, pid1);
        }
    }
    // ANCHOR_END: forwarding

    /// SIGTERM to exit, the common `docker stop`: each init supervises a
    /// recorder, which exits when SIGTERM reaches it; the time runs from
    /// kill(init, SIGTERM) until the namespace is gone. The order rotates
    /// from round to round: the first stop of a round pays for a cold path
    /// in this benchmark, and that must not always fall on the same init.
    fn stopping(&self, record: &mut impl FnMut(&str, &'static str, f64)) {
        let rounds = self.plan.stop_rounds.max(1);
        progress(&format!(
            "stopping: {rounds} SIGTERMs per init, rotating the order"
        ));
        let me = sibling("initbench");
        let me = me.to_string_lossy();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); self.inits.len()];
        for round in 0..rounds {
            for turn in 0..self.inits.len() {
                let slot = (round + turn) % self.inits.len();
                let init = self.inits[slot];
                let Some((mut child, pid1)) = self.start_supervising(init, &[&me, "recorder"])
                else {
                    continue;
                };
                let ready = child
                    .stdout
                    .take()
                    .map(BufReader::new)
                    .and_then(|mut lines| read_line(&mut lines))
                    .is_some_and(|line| line == "ready");
                if !ready {
                    stop_namespace(child, pid1);
                    continue;
                }
                let started = Instant::now();
                let _ = kill(Pid::from_raw(pid1), Signal::SIGTERM);
                if wait_with_deadline(&mut child, Duration::from_secs(5)) {
                    times[slot].push(millis(started.elapsed()));
                } else {
                    progress(&format!("{}: still running 5 s after SIGTERM", init.name));
                    stop_namespace(child, pid1);
                }
            }
        }
        for (init, samples) in self.inits.iter().zip(&times) {
            if !samples.is_empty() {
                record(&init.name, "sigterm_to_exit_ms", median(samples));
            }
        }
    }

    /// Binary size on disk, and whether the binary is static.
    fn sizes(&self, record: &mut impl FnMut(&str, &'static str, f64)) {
        for init in &self.inits {
            let Some(path) = &init.path else { continue };
            if let Ok(bytes) = std::fs::read(path) {
                record(&init.name, "size_bytes", bytes.len() as f64);
                // A static binary has no program interpreter (PT_INTERP).
                if let Some(dynamic) = has_interpreter(&bytes) {
                    record(&init.name, "static", f64::from(u8::from(!dynamic)));
                }
            }
        }
    }
}

/// Runs `work` with this process, and so every process it starts from now
/// on, allowed on the first CPU only (sched_setaffinity(2); children
/// inherit the mask), then restores the mask it had.
fn pinned_to_one_cpu(work: impl FnOnce()) -> Result<(), String> {
    use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
    let me = Pid::from_raw(0);
    let before = sched_getaffinity(me).map_err(|e| format!("sched_getaffinity: {e}"))?;
    let first = (0..CpuSet::count())
        .find(|&cpu| before.is_set(cpu).unwrap_or(false))
        .ok_or("no CPU in our affinity mask")?;
    let mut one = CpuSet::new();
    one.set(first).map_err(|e| format!("CpuSet: {e}"))?;
    sched_setaffinity(me, &one).map_err(|e| format!("sched_setaffinity: {e}"))?;
    work();
    sched_setaffinity(me, &before).map_err(|e| format!("restoring the CPU mask: {e}"))
}

/// Sends SIGUSR1 to `target` and waits for the recorder's timestamp line:
/// the latency in microseconds, or `None` if the recorder said nothing.
fn signal_latency_us(target: i32, lines: &mut BufReader<std::process::ChildStdout>) -> Option<f64> {
    let sent = monotonic_ns();
    kill(Pid::from_raw(target), Signal::SIGUSR1).ok()?;
    let received: u64 = read_line(lines)?.parse().ok()?;
    Some(received.saturating_sub(sent) as f64 / 1e3)
}

fn read_line(lines: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match lines.read_line(&mut line) {
        Ok(n) if n > 0 => Some(line.trim_end().to_string()),
        _ => None,
    }
}

fn monotonic_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// The first child of `parent`, waiting up to 5 s for it to appear;
/// `None` at once if `parent` is gone.
fn first_child(parent: i32) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        procfs::state(parent)?;
        if let Some(&pid) = procfs::children(parent).first() {
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

/// Voluntary plus involuntary context switches of `pid` (proc(5)).
fn context_switches(pid: i32) -> Option<u64> {
    Some(
        status_field(pid, "voluntary_ctxt_switches:")?
            + status_field(pid, "nonvoluntary_ctxt_switches:")?,
    )
}

/// A numeric field of `/proc/PID/status`.
fn status_field(pid: i32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Ends a namespace from outside: SIGKILL to its PID 1 is never ignored when
/// it comes from an ancestor namespace, and takes every process with it.
fn stop_namespace(mut child: Child, pid1: i32) {
    let _ = kill(Pid::from_raw(pid1), Signal::SIGKILL);
    let _ = child.wait();
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    false
}

fn median(samples: &[f64]) -> f64 {
    percentile(samples, 0.5)
}

/// The value below which `fraction` of the samples lie (nearest rank).
fn percentile(samples: &[f64], fraction: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The rows of the table: measure key, label, decimals.
const ROWS: [(&str, &str, usize); 15] = [
    ("startup_overhead_ms", "startup overhead, ms (median)", 2),
    ("idle_rss_kib", "idle RSS, KiB", 0),
    ("idle_wakeups", "idle wake-ups (context switches)", 0),
    (
        "steady_cpu_us_per_orphan",
        "CPU per reaped orphan, µs (steady)",
        2,
    ),
    ("steady_peak_zombies", "peak zombies (steady)", 0),
    (
        "burst_cpu_us_per_orphan",
        "CPU per reaped orphan, µs (burst)",
        2,
    ),
    ("burst_peak_zombies", "peak zombies (burst)", 0),
    ("burst_zombies_left", "zombies left after the burst", 0),
    ("forward_median_us", "signal forwarding, µs (median)", 1),
    ("forward_p99_us", "signal forwarding, µs (p99)", 1),
    (
        "forward_1cpu_median_us",
        "signal forwarding on one CPU, µs (median)",
        1,
    ),
    (
        "forward_1cpu_p99_us",
        "signal forwarding on one CPU, µs (p99)",
        1,
    ),
    ("sigterm_to_exit_ms", "SIGTERM to exit, ms (median)", 2),
    ("size_bytes", "binary size, bytes", 0),
    ("static", "static binary", 0),
];

/// The markdown table: one row per measure, one column per init; each
/// figure followed by its ratio to tini-static from the same run.
fn markdown_table(inits: &[Init], figures: &BTreeMap<String, Figures>) -> String {
    let mut out = String::from("| measure |");
    let mut rule = String::from("|---|");
    for init in inits {
        out.push_str(&format!(" {} |", init.name));
        rule.push_str("---:|");
    }
    out.push('\n');
    out.push_str(&rule);
    out.push('\n');
    let reference = figures.get("tini-static");
    for (key, label, decimals) in ROWS {
        out.push_str(&format!("| {label} |"));
        for init in inits {
            let value = figures.get(&init.name).and_then(|f| f.get(key));
            out.push_str(&format!(
                " {} |",
                cell(
                    key,
                    value.copied(),
                    reference.and_then(|r| r.get(key)).copied(),
                    decimals,
                    init.path.is_none()
                )
            ));
        }
        out.push('\n');
    }
    let none = figures.get("(none)");
    let get = |key| {
        none.and_then(|f: &Figures| f.get(key))
            .copied()
            .unwrap_or(f64::NAN)
    };
    out.push_str(&format!(
        "\nFloor for forwarding (kill straight to the child, same run): median {:.1} µs, p99 {:.1} µs; \
         on one CPU, median {:.1} µs, p99 {:.1} µs. \
         `true` alone as PID 1 of a new namespace took {:.2} ms (median).\n",
        get("direct_kill_median_us"),
        get("direct_kill_p99_us"),
        get("direct_kill_1cpu_median_us"),
        get("direct_kill_1cpu_p99_us"),
        get("startup_ms")
    ));
    out
}

fn cell(
    key: &str,
    value: Option<f64>,
    reference: Option<f64>,
    decimals: usize,
    missing: bool,
) -> String {
    let Some(value) = value.filter(|v| v.is_finite()) else {
        return if missing {
            "missing".into()
        } else {
            "failed".into()
        };
    };
    if key == "static" {
        return if value > 0.0 {
            "yes".into()
        } else {
            "no".into()
        };
    }
    let text = format!("{value:.decimals$}");
    match reference {
        // A ratio means something only between two positive figures.
        Some(r) if r > 0.0 && value > 0.0 && key != "idle_wakeups" && !key.contains("zombies") => {
            format!("{text} ({:.2}×)", value / r)
        }
        _ => text,
    }
}

fn write_json(file: &str, inits: &[Init], figures: &BTreeMap<String, Figures>) {
    let mut object = serde_json::Map::new();
    for (name, measures) in figures {
        let values: serde_json::Map<String, serde_json::Value> = measures
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        object.insert(name.clone(), values.into());
    }
    let missing: Vec<&str> = inits
        .iter()
        .filter(|i| i.path.is_none())
        .map(|i| i.name.as_str())
        .collect();
    let document = serde_json::json!({ "figures": object, "missing": missing });
    let text = format!("{document:#}\n");
    let written = if file == "-" {
        std::io::stdout().write_all(text.as_bytes())
    } else {
        std::fs::write(file, text)
    };
    if let Err(e) = written {
        fail("initbench", 1, &format!("writing {file}: {e}"));
    }
}

/// Parses the workload's one-line report `key=value key=value …`.
fn parse_workload_report(text: &str) -> Option<BTreeMap<String, f64>> {
    let fields: BTreeMap<String, f64> = text
        .split_whitespace()
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect();
    ["cpu_ns", "orphans", "peak_zombies", "zombies_left"]
        .iter()
        .all(|key| fields.contains_key(*key))
        .then_some(fields)
}

// ANCHOR: workload
/// The orphan workload, run as the init's child inside the namespace:
/// `initbench orphans steady|burst N`. Prints one line of `key=value`.
fn run_orphan_workload(args: Vec<String>) {
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
    let cpu = init_cpu_ns().saturating_sub(cpu_before);
    println!("cpu_ns={cpu} orphans={count} peak_zombies={peak} zombies_left={left}");
}

/// Double fork: a middle process starts the orphan and exits at once, so
/// the orphan is handed to PID 1. With a gate, the orphan first waits for
/// the gate's write end to close.
fn make_orphan(gate: Option<(&std::os::fd::OwnedFd, &std::os::fd::OwnedFd)>) {
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

/// Closes the write end of the gate in a forked orphan (its copy of the
/// descriptor, inherited from the workload).
fn drop_write_end(tx: &std::os::fd::OwnedFd) {
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

/// Zombies in this namespace right now (state `Z` in `/proc/PID/stat`).
fn count_zombies() -> usize {
    procfs::pids()
        .into_iter()
        .filter(|pid| procfs::state(*pid) == Some('Z'))
        .count()
}

/// Samples the zombie count until it is zero (or 10 s passed); returns how
/// many were left, updating the peak seen.
fn wait_for_no_zombies(peak: &mut usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let zombies = count_zombies();
        *peak = (*peak).max(zombies);
        if zombies == 0 || Instant::now() > deadline {
            return zombies;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The signal recorder, run as the init's child: prints `ready`, then the
/// CLOCK_MONOTONIC time (ns) at which it reads each SIGUSR1; exits on
/// SIGTERM.
fn run_signal_recorder() {
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
