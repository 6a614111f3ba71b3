//! Startup overhead: what an init adds before the program starts.

use std::process::Stdio;
use std::time::Instant;

use crate::bench::{millis, progress, shuffled, Bench};
use crate::cli::Measure;
use crate::stats::{median, Figures, NO_INIT};

impl Bench<'_> {
    // ANCHOR: startup
    /// Startup overhead: `INIT true` minus `true` alone, both as PID 1 of a
    /// fresh namespace; medians over many runs, interleaved.
    pub fn startup(&self, figures: &mut Figures, round: usize) {
        progress(&format!(
            "startup: {} runs of each init",
            self.plan.startup_runs
        ));
        let turns = self.turns(Measure::Startup, round);
        let mut alone = Vec::new();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); turns.len()];
        for run in 0..self.plan.startup_runs {
            // A new order for every run (see `shuffled`); the turn numbered
            // `turns.len()` is `true` alone.
            let seed = (round * self.plan.startup_runs + run) as u64;
            for slot in shuffled(turns.len() + 1, seed) {
                match turns.get(slot) {
                    Some(init) => times[slot].extend(self.time_true(Some(init))),
                    None => alone.extend(self.time_true(None)),
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
    fn time_true(&self, init: Option<&crate::cli::Init>) -> Option<f64> {
        let started = Instant::now();
        let status = self.command(init, &["true"]).stdout(Stdio::null()).status();
        status
            .is_ok_and(|s| s.success())
            .then(|| millis(started.elapsed()))
    }
}
