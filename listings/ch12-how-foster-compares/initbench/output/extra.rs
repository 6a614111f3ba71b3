//! The two comparisons that replace the benchmark: `--placement` (where the
//! run sits for the scheduler) and `--scale` (many processes at once).

use orphans::capability::Missing;
use orphans::initbench::plan::Role;
use orphans::initbench::stats::Spread;

use super::{count_text, Results};
use crate::forwarding::{IN_OWN, IN_ROOT};
use crate::scale::{CGROUP_KILL, LEFTOVERS, ORPHANS, STOPS, WAVE};

impl Results<'_> {
    /// Forwarding on one CPU in the root CPU cgroup and in one of the
    /// run's own, for every init measured, and one sentence per peer; or
    /// the line that says why it could not run here.
    pub(super) fn placement_table(&self) -> String {
        let measured: Vec<_> = self
            .inits
            .iter()
            .filter(|init| self.spread(&init.name, IN_ROOT[0]).is_some())
            .collect();
        if measured.is_empty() {
            return format!("{}\n", no_autogroup().line("The autogroup comparison"));
        }
        let mut out = String::from("| where the run was |");
        let mut rule = String::from("|---|");
        for init in &measured {
            out.push_str(&format!(" {} |", init.name));
            rule.push_str("---:|");
        }
        out.push('\n');
        out.push_str(&rule);
        out.push('\n');
        for (label, key) in [
            ("the root CPU cgroup, autogroup on", IN_ROOT[0]),
            ("a CPU cgroup of its own", IN_OWN[0]),
        ] {
            out.push_str(&format!("| {label} |"));
            for init in &measured {
                let cell = self
                    .spread(&init.name, key)
                    .map_or("—".into(), |s| format!("{:.1}", s.median));
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "\nMedian time in µs for a signal to reach the child through the init, every \
             process on one CPU; {} rounds of {} signals, in both places in each round.",
            self.rounds.len(),
            self.plan.signals
        ));
        for peer in measured.iter().filter(|init| init.role == Role::Peer) {
            let ratio = |key: &str| -> Option<f64> {
                let foster = self.spread(&self.foster()?.name, key)?.median;
                Some(self.spread(&peer.name, key)?.median / foster)
            };
            if let (Some(root), Some(own)) = (ratio(IN_ROOT[0]), ratio(IN_OWN[0])) {
                out.push_str(&format!(
                    " {} took {root:.2} times foster's time in the root CPU cgroup, and \
                     {own:.2} times in a cgroup of its own.",
                    peer.name
                ));
            }
        }
        out.push('\n');
        out
    }

    /// The scale rows: stopping the processes left behind, and the waves
    /// of orphans.
    pub(super) fn scale_table(&self) -> String {
        let figure = |label: &str, key: &str| self.scale.get(label, key);
        let mut out = String::from(
            "| at scale | time | most zombies at once | init's memory (RSS), KiB |\n\
             |---|---:|---:|---:|\n",
        );
        let stops = [
            (
                "foster",
                "foster stops them: SIGTERM to everyone, then reaps",
            ),
            (
                "tini -g",
                "tini -g: SIGTERM to the process group, exits, the kernel kills the rest",
            ),
            (
                CGROUP_KILL,
                "`cgroup.kill`: SIGKILL to every process of the cgroup",
            ),
        ];
        out.push_str(&format!(
            "| **{} processes left behind when the command exits** | | | |\n",
            count_text(LEFTOVERS as f64)
        ));
        for (label, how) in stops {
            let time = match figure(label, "leftovers_exit_ms") {
                Some(ms) => format!("{ms:.0} ms (median of {STOPS})"),
                None if label == CGROUP_KILL => "no cgroup v2 with cgroup.kill here".into(),
                None => "not measured".into(),
            };
            out.push_str(&format!("| {how} | {time} | — | — |\n"));
        }
        out.push_str(&format!(
            "| **{} orphans, {} exiting at once, wave after wave** | | | |\n",
            count_text(ORPHANS as f64),
            count_text(WAVE as f64)
        ));
        let reapers = self
            .inits
            .iter()
            .filter(|init| init.role == Role::Foster || init.name == "tini-static");
        for init in reapers {
            let row = (|| {
                let seconds = figure(&init.name, "waves_s")?;
                let peak = figure(&init.name, "waves_peak_zombies")?;
                let before = figure(&init.name, "rss_before_kib")?;
                let after = figure(&init.name, "rss_after_kib")?;
                Some(format!(
                    "| {} reaps them | {seconds:.1} s | {} | {} before, {} after |\n",
                    init.name,
                    count_text(peak),
                    count_text(before),
                    count_text(after)
                ))
            })();
            out.push_str(&row.unwrap_or_else(|| {
                format!("| {} reaps them | not measured | — | — |\n", init.name)
            }));
        }
        out.push_str(&self.scale_sentence());
        out
    }

    /// What the rows say about foster, in figures from the run.
    fn scale_sentence(&self) -> String {
        let figure = |label: &str, key: &str| self.scale.get(label, key);
        let mut out = String::from("\n");
        if let (Some(foster), Some(tini)) = (
            figure("foster", "leftovers_exit_ms"),
            figure("tini -g", "leftovers_exit_ms"),
        ) {
            out.push_str(&format!(
                "Stopping what was left took foster {:.2} times as long as tini -g, which \
                 signals and leaves the rest to the kernel.",
                foster / tini
            ));
        }
        if let (Some(before), Some(after)) = (
            figure("foster", "rss_before_kib"),
            figure("foster", "rss_after_kib"),
        ) {
            let change = Spread::of(&[before, after]).map_or(0.0, |s| s.high - s.low);
            out.push_str(&format!(
                " foster's resident memory was {} KiB before the orphans and {} KiB after \
                 them: {} KiB apart.",
                count_text(before),
                count_text(after),
                count_text(change)
            ));
        }
        out.push('\n');
        out
    }
}

/// Why the autogroup comparison could not run here.
fn no_autogroup() -> Missing {
    let enabled = std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled")
        .is_ok_and(|value| value.trim() == "1");
    if enabled {
        Missing::new(
            "the root CPU cgroup and one of its own",
            "initbench could not move between them (only root may, and not from inside a container)",
            "run it as root on the host",
        )
    } else {
        Missing::new(
            "autogroup",
            "it is off on this machine (kernel.sched_autogroup_enabled is 0)",
            "sysctl kernel.sched_autogroup_enabled=1, as root",
        )
    }
}
