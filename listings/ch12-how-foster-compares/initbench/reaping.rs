//! Reaping: how much of the init's time each orphan costs, and how long
//! zombies wait for it.

use crate::bench::{progress, Bench};
use crate::cli::{Init, Measure};
use crate::stats::Figures;
use crate::workload::{parse_orphans_report, OrphansReport};

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

impl Bench<'_> {
    /// Reaping: the init's child makes orphans that exit at once (steady),
    /// or that all exit together (burst). It reads the init's own CPU time
    /// from /proc/1/schedstat before and after, and samples the zombies.
    pub fn reaping(&self, figures: &mut Figures, round: usize) {
        for (mode, keys) in MODES {
            let count = match mode {
                "steady" => self.plan.orphans,
                _ => self.plan.burst,
            };
            progress(&format!("reaping: {count} orphans per init, {mode}"));
            for init in self.turns(Measure::Reaping, round) {
                let Some(report) = self.orphan_workload(init, mode, count) else {
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
    fn orphan_workload(&self, init: &Init, mode: &str, count: usize) -> Option<OrphansReport> {
        let output = self
            .workload(Some(init), &["orphans", mode, &count.to_string()])
            .output()
            .ok()
            .filter(|output| output.status.success())?;
        parse_orphans_report(&String::from_utf8_lossy(&output.stdout))
    }
}
