//! The timed figures as one table, six columns wide: foster, foster-again
//! (the noise), the best peer, foster's ratio to it, and the floor; then
//! the notes that say how to read it; and the system calls per event.

use orphans::initbench::plan::{Init, Role};
use orphans::initbench::stats::{Spread, NO_INIT};

use super::{count_text, ratio_text, Results};
use crate::syscalls::{cell, Calls};

/// How a row's figures compare.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Lower is better, and a ratio means something.
    Cost,
    /// A count that is often zero (wake-ups, zombies): compared as counts.
    Count,
    /// Yes or no.
    Flag,
}

/// A row of the table: measure key, label, decimals, kind.
struct Row {
    key: &'static str,
    label: &'static str,
    decimals: usize,
    kind: Kind,
}

const fn row(key: &'static str, label: &'static str, decimals: usize, kind: Kind) -> Row {
    Row {
        key,
        label,
        decimals,
        kind,
    }
}

const ROWS: [Row; 15] = [
    row("startup_overhead_ms", "startup overhead, ms", 2, Kind::Cost),
    row("idle_rss_kib", "idle RSS, KiB", 0, Kind::Cost),
    row("idle_wakeups", "idle wake-ups", 0, Kind::Count),
    row(
        "steady_cpu_us_per_orphan",
        "CPU per orphan, µs (steady)",
        2,
        Kind::Cost,
    ),
    row(
        "steady_peak_zombies",
        "peak zombies (steady)",
        0,
        Kind::Count,
    ),
    row(
        "burst_cpu_us_per_orphan",
        "CPU per orphan, µs (burst)",
        2,
        Kind::Cost,
    ),
    row("burst_peak_zombies", "peak zombies (burst)", 0, Kind::Count),
    row(
        "burst_zombies_left",
        "zombies left after the burst",
        0,
        Kind::Count,
    ),
    row(
        "forward_median_us",
        "forwarding, µs (median)",
        1,
        Kind::Cost,
    ),
    row("forward_p99_us", "forwarding, µs (p99)", 1, Kind::Cost),
    row(
        "forward_1cpu_median_us",
        "forwarding on one CPU, µs (median)",
        1,
        Kind::Cost,
    ),
    row(
        "forward_1cpu_p99_us",
        "forwarding on one CPU, µs (p99)",
        1,
        Kind::Cost,
    ),
    row("sigterm_to_exit_ms", "SIGTERM to exit, ms", 2, Kind::Cost),
    row("size_bytes", "binary size, bytes", 0, Kind::Cost),
    row("static", "static binary", 0, Kind::Flag),
];

/// The rows whose ratios mean something, for the JSON.
pub const COST_KEYS: [&str; 10] = [
    "startup_overhead_ms",
    "idle_rss_kib",
    "steady_cpu_us_per_orphan",
    "burst_cpu_us_per_orphan",
    "forward_median_us",
    "forward_p99_us",
    "forward_1cpu_median_us",
    "forward_1cpu_p99_us",
    "sigterm_to_exit_ms",
    "size_bytes",
];

/// The rows measured in time (not memory or size): what the noise of a
/// shared machine moves.
pub fn timed_keys() -> impl Iterator<Item = &'static str> {
    COST_KEYS
        .into_iter()
        .filter(|key| !matches!(*key, "idle_rss_kib" | "size_bytes"))
}

impl Results<'_> {
    /// The table: one row per figure that was measured.
    pub(super) fn table(&self) -> String {
        let mut out = String::from(
            "| measure | foster | foster-again | best peer | foster ÷ best peer | floor |\n\
             |---|---:|---:|---:|---:|---:|\n",
        );
        for row in ROWS.iter() {
            if self.rounds.iter().any(|round| {
                round
                    .0
                    .values()
                    .any(|figures| figures.contains_key(row.key))
            }) {
                out.push_str(&self.table_row(row));
            }
        }
        out
    }

    fn table_row(&self, row: &Row) -> String {
        let named = |role: Role| self.named(role).next();
        let best_peer = self.best(Role::Peer, row.key);
        let cells = [
            named(Role::Foster).map_or("—".into(), |init| self.figure_cell(row, init)),
            named(Role::Control).map_or("—".into(), |init| self.figure_cell(row, init)),
            match row.kind {
                // Which peers are static too.
                Kind::Flag => self.peers_with(row.key),
                _ => best_peer.map_or("—".into(), |init| {
                    format!("{} ({})", self.figure_cell(row, init), init.name)
                }),
            },
            match row.kind {
                Kind::Cost => self
                    .versus_best(Role::Peer, row.key)
                    .map_or("—".into(), |v| ratio_text(v.ratio)),
                _ => "—".into(),
            },
            self.best(Role::Floor, row.key)
                .map_or("—".into(), |init| self.figure_cell(row, init)),
        ];
        format!("| {} | {} |\n", row.label, cells.join(" | "))
    }

    /// The peers whose flag `key` is set, by name ("—": none).
    fn peers_with(&self, key: &str) -> String {
        let names: Vec<&str> = self
            .named(Role::Peer)
            .filter(|init| self.spread(&init.name, key).is_some_and(|s| s.median > 0.0))
            .map(|init| init.name.as_str())
            .collect();
        match names.is_empty() {
            true => "—".into(),
            false => names.join(", "),
        }
    }

    /// An init's median over the rounds; for counts, with the lowest and
    /// highest round.
    fn figure_cell(&self, row: &Row, init: &Init) -> String {
        match self.spread(&init.name, row.key) {
            Some(spread) if row.kind == Kind::Count && spread.low < spread.high => format!(
                "{} ({:.0}–{:.0})",
                figure(row, spread.median),
                spread.low,
                spread.high
            ),
            Some(spread) => figure(row, spread.median),
            None if init.path.is_none() => "missing".into(),
            None => "—".into(),
        }
    }

    /// foster's ratio to foster-again for each timed row measured: how
    /// far apart one binary lands from itself in this run.
    pub(super) fn noise_band(&self) -> Option<Spread> {
        let control = self.named(Role::Control).next()?;
        let ratios: Vec<f64> = timed_keys()
            .filter_map(|key| Some(self.versus(control, key)?.ratio.median))
            .collect();
        Spread::of(&ratios)
    }

    /// How many rounds, how far apart they were, how far apart foster and
    /// its second copy landed, and the signal sent straight to the child.
    pub(super) fn notes(&self) -> String {
        let mut out = format!(
            "Each figure is the median of {} rounds. In a round the inits take turns in a \
             new random order for every run, a figure is itself a median (p99: the 99th \
             percentile, the time that only one signal in a hundred took longer than) of {} \
             signals, {} starts or {} stops, and each init reaps {} orphans one after \
             another and {} at once. Zombie counts give the lowest and highest round in \
             brackets; ratios the median of the rounds' ratios, with the lowest and highest \
             round.",
            self.rounds.len(),
            self.plan.signals,
            self.plan.startup_runs,
            self.plan.stops,
            self.plan.orphans,
            self.plan.burst
        );
        if let Some(band) = self.noise_band() {
            out.push_str(&format!(
                " foster-again is foster measured a second time, as if it were another init: \
                 on the timed rows foster's medians were {:.2} to {:.2} times its own, so a \
                 ratio to a peer that close to 1 is a tie.",
                band.low, band.high
            ));
        }
        let direct = self
            .spread(NO_INIT, "direct_kill_median_us")
            .map(|s| s.median);
        if let Some(direct) = direct {
            out.push_str(&format!(
                " The same signal sent straight to the child, with no init in between, took \
                 {direct:.1} µs (median)."
            ));
        }
        if !self.placement.is_empty() {
            out.push(' ');
            out.push_str(&self.placement);
        }
        out.push('\n');
        out
    }

    /// The system calls per event of every init, foster first, and whether
    /// foster's are the floor's.
    pub(super) fn syscall_table(&self, all: &[Calls]) -> String {
        let [small, large] = self.plan.paced;
        let mut out = format!(
            "System calls each init made per event, traced with ptrace(2) as `strace -c` \
             counts them (the calls with {large} paced events minus those with {small}, over \
             {}):\n\n| init | per orphan reaped | per signal forwarded |\n|---|---|---|\n",
            large - small
        );
        let order = |calls: &Calls| {
            self.inits
                .iter()
                .position(|init| init.name == calls.init && init.role != Role::Control)
        };
        let mut shown: Vec<(usize, &Calls)> =
            all.iter().filter_map(|c| Some((order(c)?, c))).collect();
        shown.sort_by_key(|(place, _)| *place);
        for (_, calls) in &shown {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                calls.init,
                cell(&calls.per_orphan),
                cell(&calls.per_signal)
            ));
        }
        out.push('\n');
        out.push_str(&self.syscall_verdict(all));
        out.push('\n');
        out
    }

    /// One sentence: whether foster's calls per event are those of a floor.
    pub(super) fn syscall_verdict(&self, all: &[Calls]) -> String {
        match same_calls_as_a_floor(self, all) {
            Some(Some(floor)) => {
                format!("foster makes the floor's system calls, call for call: those of {floor}.")
            }
            Some(None) => "foster's system calls per event differ from every floor's.".into(),
            None => String::new(),
        }
    }
}

/// The floor whose calls per event are foster's (`Some(None)`: none is;
/// `None`: foster was not traced).
pub(super) fn same_calls_as_a_floor<'c>(
    results: &Results,
    all: &'c [Calls],
) -> Option<Option<&'c str>> {
    let by_name = |name: &str| all.iter().find(|calls| calls.init == name);
    let foster = by_name(&results.foster()?.name)?;
    Some(
        results
            .named(Role::Floor)
            .filter_map(|floor| by_name(&floor.name))
            .find(|floor| {
                cell(&floor.per_orphan) == cell(&foster.per_orphan)
                    && cell(&floor.per_signal) == cell(&foster.per_signal)
            })
            .map(|floor| floor.init.as_str()),
    )
}

/// A figure as the table shows it.
fn figure(row: &Row, value: f64) -> String {
    match row.kind {
        Kind::Flag if value > 0.0 => "yes".into(),
        Kind::Flag => "no".into(),
        _ if row.key == "size_bytes" => count_text(value),
        _ => format!("{value:.decimals$}", decimals = row.decimals),
    }
}
