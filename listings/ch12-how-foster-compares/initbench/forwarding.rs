//! Forwarding latency: how long a signal sent to the init takes to reach
//! its child, against the same signal sent straight to the child.

use std::io::BufReader;
use std::process::{Child, ChildStdout};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use orphans::initbench::bench::{
    first_child, monotonic_ns, pinned_to_one_cpu, progress, read_line, shuffled, stop_namespace,
    Bench,
};
use orphans::initbench::cgroup::{autogroup_enabled, own_cpu_cgroup, root_cpu_cgroup, Placement};
use orphans::initbench::plan::{Init, Measure};
use orphans::initbench::stats::{median, percentile, Figures, NO_INIT};

/// The keys of one pass: through the init (median, p99), then straight to
/// the child (median, p99).
const ALL_CPUS: [&str; 4] = [
    "forward_median_us",
    "forward_p99_us",
    "direct_kill_median_us",
    "direct_kill_p99_us",
];
const ONE_CPU: [&str; 4] = [
    "forward_1cpu_median_us",
    "forward_1cpu_p99_us",
    "direct_kill_1cpu_median_us",
    "direct_kill_1cpu_p99_us",
];

/// A recorder running under an init: the init, the namespace, the init's
/// and the recorder's PIDs, and the recorder's output.
struct Relayed<'a> {
    init: &'a Init,
    namespace: Child,
    pid1: i32,
    recorder: i32,
    lines: BufReader<ChildStdout>,
}

// ANCHOR: forwarding
/// Forwarding latency: time from kill(init, SIGUSR1) to the moment the
/// child reads the signal (CLOCK_MONOTONIC on both sides; the clock is
/// shared by all PID namespaces). Without an init, in the same run, the
/// same signal goes straight to the child.
pub fn forwarding(bench: &Bench, figures: &mut Figures, round: usize) {
    progress(&format!(
        "forwarding: {} signals per init, on all CPUs, then on one",
        bench.plan.signals
    ));
    forwarding_pass(bench, figures, round, ALL_CPUS);
    // On one CPU the figure is the mechanism alone; on several it also
    // holds the scheduler's choice of CPU for each wake-up (waking an
    // idle CPU takes an inter-processor interrupt, dearer in a VM).
    if let Err(e) = pinned_to_one_cpu(|| forwarding_pass(bench, figures, round, ONE_CPU)) {
        progress(&format!("forwarding on one CPU skipped: {e}"));
    }
}

/// One pass of forwarding measures, recorded under `keys`.
fn forwarding_pass(bench: &Bench, figures: &mut Figures, round: usize, keys: [&'static str; 4]) {
    let mut relayed: Vec<Relayed> = bench
        .turns(Measure::Forwarding, round)
        .into_iter()
        .filter_map(|init| start_recorder(bench, init))
        .collect();
    let mut through_init: Vec<Vec<f64>> = vec![Vec::new(); relayed.len()];
    let mut direct: Vec<f64> = Vec::new();
    // A new order for every signal (see `shuffled`); the turn numbered
    // `count` is the floor, a signal straight to one of the recorders.
    let count = relayed.len();
    if count == 0 {
        return progress("forwarding: no recorder started");
    }
    for signal in 0..bench.plan.signals {
        let seed = (round * bench.plan.signals + signal) as u64;
        for slot in shuffled(count + 1, seed) {
            if slot == count {
                let one = &mut relayed[signal % count];
                direct.extend(signal_latency_us(one.recorder, &mut one.lines));
            } else {
                let one = &mut relayed[slot];
                through_init[slot].extend(signal_latency_us(one.pid1, &mut one.lines));
            }
        }
    }
    let [median_key, p99_key, direct_median, direct_p99] = keys;
    figures.record(NO_INIT, direct_median, median(&direct));
    figures.record(NO_INIT, direct_p99, percentile(&direct, 0.99));
    for (one, samples) in relayed.into_iter().zip(through_init) {
        if !samples.is_empty() {
            figures.record(&one.init.name, median_key, median(&samples));
            figures.record(&one.init.name, p99_key, percentile(&samples, 0.99));
        }
        stop_namespace(one.namespace, one.pid1);
    }
}
// ANCHOR_END: forwarding

/// `init` supervising `initbench recorder`, once the recorder is ready.
fn start_recorder<'i>(bench: &Bench, init: &'i Init) -> Option<Relayed<'i>> {
    let recorder = bench.workload(Some(init), &["recorder"]);
    let (mut namespace, pid1) = bench.start_supervising(init, recorder)?;
    let Some(stdout) = namespace.stdout.take() else {
        stop_namespace(namespace, pid1);
        return None;
    };
    let mut lines = BufReader::new(stdout);
    let ready = read_line(&mut lines).is_some_and(|line| line == "ready");
    match first_child(pid1) {
        Some(recorder) if ready => Some(Relayed {
            init,
            namespace,
            pid1,
            recorder,
            lines,
        }),
        _ => {
            stop_namespace(namespace, pid1);
            None
        }
    }
}

/// Sends SIGUSR1 to `target` and waits for the recorder's timestamp line:
/// the latency in microseconds, or `None` if the recorder said nothing.
fn signal_latency_us(target: i32, lines: &mut BufReader<ChildStdout>) -> Option<f64> {
    let sent = monotonic_ns();
    kill(Pid::from_raw(target), Signal::SIGUSR1).ok()?;
    let received: u64 = read_line(lines)?.parse().ok()?;
    Some(received.saturating_sub(sent) as f64 / 1e3)
}

/// The keys of the placement comparison: forwarding on one CPU, in the
/// root CPU cgroup (where autogroup applies) and in one of the run's own.
pub const IN_ROOT: [&str; 4] = [
    "root_forward_1cpu_median_us",
    "root_forward_1cpu_p99_us",
    "root_direct_kill_1cpu_median_us",
    "root_direct_kill_1cpu_p99_us",
];
pub const IN_OWN: [&str; 4] = [
    "own_forward_1cpu_median_us",
    "own_forward_1cpu_p99_us",
    "own_direct_kill_1cpu_median_us",
    "own_direct_kill_1cpu_p99_us",
];

/// Forwarding on one CPU twice: in the root CPU cgroup, where autogroup
/// gives a process that calls setsid(2) a scheduling group of its own;
/// then in a CPU cgroup made for the run, as a container runtime makes one
/// (`orphans::initbench::cgroup`), or the one it was started in if that is
/// not the root one. Nothing is recorded where autogroup is off or the
/// root CPU cgroup out of reach.
pub fn placement(bench: &Bench, figures: &mut Figures, round: usize) {
    if !autogroup_enabled() {
        return progress("placement: autogroup is off here");
    }
    let Some(root) = root_cpu_cgroup() else {
        return progress("placement: the root CPU cgroup is out of reach");
    };
    progress("placement: forwarding on one CPU, in the root CPU cgroup");
    let in_root = pinned_to_one_cpu(|| forwarding_pass(bench, figures, round, IN_ROOT));
    drop(root);
    // Moved when back in the root task group; else it has a group of its
    // own already. A reason means autogroup applies and no group was made.
    let own = own_cpu_cgroup();
    if let Placement::Stayed(why) = &own {
        if !why.is_empty() {
            return progress(&format!("placement: no CPU cgroup of its own: {why}"));
        }
    }
    progress("placement: forwarding on one CPU, in a CPU cgroup of its own");
    let in_own = pinned_to_one_cpu(|| forwarding_pass(bench, figures, round, IN_OWN));
    drop(own);
    if let Err(e) = in_root.and(in_own) {
        progress(&format!("placement skipped: {e}"));
    }
}
