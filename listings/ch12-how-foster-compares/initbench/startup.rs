//! Startup overhead: what an init adds before the program starts.

use std::process::Stdio;
use std::time::Instant;

use orphans::initbench::bench::{millis, progress, shuffled, Bench};
use orphans::initbench::plan::{Init, Measure};
use orphans::initbench::stats::{median, Figures, NO_INIT};

// ANCHOR: startup
/// Startup overhead: `INIT true` minus `true` alone, both as PID 1 of a
/// fresh namespace; medians over many runs, interleaved.
pub fn startup(bench: &Bench, figures: &mut Figures, round: usize) {
    progress(&format!(
        "startup: {} runs of each init",
        bench.plan.startup_runs
    ));
    let turns = bench.turns(Measure::Startup, round);
    let mut alone = Vec::new();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); turns.len()];
    for run in 0..bench.plan.startup_runs {
        // A new order for every run (see `shuffled`); the turn numbered
        // `turns.len()` is `true` alone.
        let seed = (round * bench.plan.startup_runs + run) as u64;
        for slot in shuffled(turns.len() + 1, seed) {
            match turns.get(slot) {
                Some(init) => times[slot].extend(time_true(bench, Some(init))),
                None => alone.extend(time_true(bench, None)),
            }
        }
    }
    let baseline = median(&alone);
    figures.record(NO_INIT, "startup_ms", baseline);
    for (init, samples) in turns.iter().zip(&times) {
        if !samples.is_empty() {
            let overhead = median(samples) - baseline;
            figures.record(&init.name, "startup_overhead_ms", overhead);
        }
    }
}
// ANCHOR_END: startup

/// Milliseconds for `container [INIT --] true`, if it succeeded.
fn time_true(bench: &Bench, init: Option<&Init>) -> Option<f64> {
    let started = Instant::now();
    let status = bench
        .command(init, &["true"])
        .stdout(Stdio::null())
        .status();
    status
        .is_ok_and(|s| s.success())
        .then(|| millis(started.elapsed()))
}
