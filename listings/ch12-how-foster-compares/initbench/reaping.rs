//! Reaping: how much of the init's time each orphan costs, and how long
//! zombies wait for it.

use crate::workload::{parse_orphans_report, OrphansReport};
use orphans::initbench::bench::{progress, shuffled, Bench};
use orphans::initbench::plan::{Init, Measure};
use orphans::initbench::stats::Figures;

/// The two ways the workload makes orphans, with the keys of their figures:
/// CPU per orphan, peak of zombies, zombies left at the end.
const MODES: [(&str, [&str; 3]); 2] = [
    (
        "steady",
        [
            "steady_cpu_us_per_orphan",
            "steady_peak_zombies",
            "steady_zombies_left",
        ],
    ),
    (
        "burst",
        [
            "burst_cpu_us_per_orphan",
            "burst_peak_zombies",
            "burst_zombies_left",
        ],
    ),
];

/// Reaping: the init's child makes orphans that exit at once (steady),
/// or that all exit together (burst). It reads the init's own CPU time
/// from /proc/1/schedstat before and after, and samples the zombies.
pub fn reaping(bench: &Bench, figures: &mut Figures, round: usize) {
    let turns = bench.turns(Measure::Reaping, round);
    for (pass, (mode, keys)) in MODES.into_iter().enumerate() {
        let count = match mode {
            "steady" => bench.plan.orphans,
            _ => bench.plan.burst,
        };
        progress(&format!("reaping: {count} orphans per init, {mode}"));
        // Whatever one init's run leaves behind falls on the next one: in a
        // fixed order, foster spent more per orphan in the burst than
        // foster-again, the same binary, in four runs out of five. A new
        // order for every pass (see `shuffled`).
        for slot in shuffled(turns.len(), (round * MODES.len() + pass) as u64) {
            let init = turns[slot];
            let Some(report) = orphan_workload(bench, init, mode, count) else {
                progress(&format!("{}: the {mode} orphan workload failed", init.name));
                continue;
            };
            let [cpu, peak, left] = keys;
            figures.record(&init.name, cpu, report.cpu_us_per_orphan());
            figures.record(&init.name, peak, report.peak_zombies as f64);
            figures.record(&init.name, left, report.zombies_left as f64);
        }
    }
}

/// Runs `initbench orphans MODE COUNT` under `init`; its report.
fn orphan_workload(bench: &Bench, init: &Init, mode: &str, count: usize) -> Option<OrphansReport> {
    let output = bench
        .workload(Some(init), &["orphans", mode, &count.to_string()])
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    parse_orphans_report(&String::from_utf8_lossy(&output.stdout))
}
