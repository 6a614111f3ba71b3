//! What initbench prints: a markdown table of the medians over all rounds,
//! with foster's ratio to the best peer and to the floor, and the same
//! figures, every round included, as JSON for scripts.

use std::io::Write;

use orphans::cli::fail;
use serde_json::{json, Map, Value};

use orphans::initbench::plan::{Init, Measure, Plan, Role};
use orphans::initbench::stats::{across_rounds, median, Figures, Spread, NO_INIT};

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

/// A row of the table: measure key, label, decimals, kind, and the key of
/// the same measure without an init, if there is one.
struct Row {
    key: &'static str,
    label: &'static str,
    decimals: usize,
    kind: Kind,
    no_init: Option<&'static str>,
}

const fn row(key: &'static str, label: &'static str, decimals: usize, kind: Kind) -> Row {
    Row {
        key,
        label,
        decimals,
        kind,
        no_init: None,
    }
}

const fn forwarding(key: &'static str, label: &'static str, direct: &'static str) -> Row {
    Row {
        key,
        label,
        decimals: 1,
        kind: Kind::Cost,
        no_init: Some(direct),
    }
}

const ROWS: [Row; 15] = [
    row("startup_overhead_ms", "startup overhead, ms", 2, Kind::Cost),
    row("idle_rss_kib", "idle RSS, KiB", 0, Kind::Cost),
    row("idle_wakeups", "idle wake-ups", 0, Kind::Count),
    row(
        "steady_cpu_us_per_orphan",
        "CPU per reaped orphan, µs (steady)",
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
        "CPU per reaped orphan, µs (burst)",
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
    forwarding(
        "forward_median_us",
        "signal forwarding, µs (median)",
        "direct_kill_median_us",
    ),
    forwarding(
        "forward_p99_us",
        "signal forwarding, µs (p99)",
        "direct_kill_p99_us",
    ),
    forwarding(
        "forward_1cpu_median_us",
        "forwarding on one CPU, µs (median)",
        "direct_kill_1cpu_median_us",
    ),
    forwarding(
        "forward_1cpu_p99_us",
        "forwarding on one CPU, µs (p99)",
        "direct_kill_1cpu_p99_us",
    ),
    row("sigterm_to_exit_ms", "SIGTERM to exit, ms", 2, Kind::Cost),
    row("size_bytes", "binary size, bytes", 0, Kind::Cost),
    row("static", "static binary", 0, Kind::Flag),
];

/// A column of the table.
enum Column<'a> {
    Init(&'a Init),
    VersusPeer,
    VersusFloor,
    NoInit,
}

/// All rounds of one run, the inits and the measures.
pub struct Results<'a> {
    pub inits: &'a [Init],
    pub rounds: Vec<Figures>,
    pub plan: Plan,
    pub measures: &'a [Measure],
    /// Where the run was scheduled ([`orphans::initbench::cgroup`]), one
    /// sentence for the notes, or nothing.
    pub placement: String,
}

/// The measure a row's figure comes from.
fn measure_of(key: &str) -> Measure {
    match key.split('_').next() {
        Some("startup") => Measure::Startup,
        Some("idle") => Measure::Idle,
        Some("steady" | "burst") => Measure::Reaping,
        Some("forward") => Measure::Forwarding,
        Some("sigterm") => Measure::Stopping,
        _ => Measure::Size,
    }
}

/// foster's figure over another init's, round by round.
struct Versus {
    ratio: Spread,
    /// The init foster is compared with.
    other: String,
}

impl Results<'_> {
    fn spread(&self, init: &str, key: &str) -> Option<Spread> {
        Spread::of(&across_rounds(&self.rounds, init, key))
    }

    fn named(&self, role: Role) -> impl Iterator<Item = &Init> {
        self.inits.iter().filter(move |init| init.role == role)
    }

    /// The init of `role` with the lowest median for `key`. For sizes only
    /// static binaries count: a dynamic one needs a C library beside it.
    fn best(&self, role: Role, key: &str) -> Option<&Init> {
        self.named(role)
            .filter(|init| {
                key != "size_bytes"
                    || self
                        .spread(&init.name, "static")
                        .is_some_and(|s| s.median > 0.0)
            })
            .filter_map(|init| Some((init, self.spread(&init.name, key)?.median)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(init, _)| init)
    }

    /// foster's figure over `other`'s, in each round that has both.
    ///
    /// The other init is chosen once, by its median over all rounds, not
    /// round by round: the lowest of four noisy figures is lower than any
    /// one of them on average, so a ratio to each round's best would put
    /// foster behind even where all inits are equal.
    fn versus(&self, other: &Init, key: &str) -> Option<Versus> {
        let foster = self.named(Role::Foster).next()?;
        let ratios: Vec<f64> = self
            .rounds
            .iter()
            .filter_map(|round| {
                let (mine, theirs) = (round.get(&foster.name, key)?, round.get(&other.name, key)?);
                (mine > 0.0 && theirs > 0.0).then(|| mine / theirs)
            })
            .collect();
        Some(Versus {
            ratio: Spread::of(&ratios)?,
            other: other.name.clone(),
        })
    }

    fn versus_best(&self, role: Role, key: &str) -> Option<Versus> {
        self.versus(self.best(role, key)?, key)
    }

    /// The markdown table and the lines that say how to read it.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| measure |");
        let mut rule = String::from("|---|");
        for column in self.columns() {
            let header = match column {
                Column::Init(init) if init.role == Role::Floor => format!("floor: {}", init.name),
                Column::Init(init) => init.name.clone(),
                Column::VersusPeer => "foster ÷ best peer".into(),
                Column::VersusFloor => "foster ÷ floor".into(),
                Column::NoInit => "no init".into(),
            };
            out.push_str(&format!(" {header} |"));
            rule.push_str("---:|");
        }
        out.push('\n');
        out.push_str(&rule);
        out.push('\n');
        for row in ROWS
            .iter()
            .filter(|row| self.measures.contains(&measure_of(row.key)))
        {
            out.push_str(&self.markdown_row(row));
        }
        out.push('\n');
        out.push_str(&self.notes());
        out
    }

    /// foster first and its ratios next to it, where a reader looks first;
    /// then every other init, and the figure without an init.
    fn columns(&self) -> Vec<Column<'_>> {
        let mut columns: Vec<Column> = self.named(Role::Foster).map(Column::Init).collect();
        columns.extend([Column::VersusPeer, Column::VersusFloor]);
        columns.extend(
            self.inits
                .iter()
                .filter(|init| init.role != Role::Foster)
                .map(Column::Init),
        );
        columns.push(Column::NoInit);
        columns
    }

    fn markdown_row(&self, row: &Row) -> String {
        let mut out = format!("| {} |", row.label);
        for column in self.columns() {
            let text = match column {
                Column::Init(init) => self.figure_cell(row, init),
                Column::VersusPeer => self.best_peer_cell(row),
                Column::VersusFloor => match row.kind {
                    Kind::Cost => self
                        .versus_best(Role::Floor, row.key)
                        .map_or("—".into(), |v| ratio_text(v.ratio)),
                    _ => "—".into(),
                },
                Column::NoInit => row
                    .no_init
                    .and_then(|key| self.spread(NO_INIT, key))
                    .map_or("—".into(), |spread| figure(row, spread.median)),
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
        out
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
            None if init.role == Role::Floor => "—".into(),
            None => "failed".into(),
        }
    }

    fn best_peer_cell(&self, row: &Row) -> String {
        match row.kind {
            Kind::Cost => self
                .versus_best(Role::Peer, row.key)
                .map(|v| format!("{} ({})", ratio_text(v.ratio), v.other)),
            Kind::Count => self.count_versus_best_peer(row.key),
            Kind::Flag => None,
        }
        .unwrap_or_else(|| "—".into())
    }

    /// For counts that may be zero, foster's median against the lowest
    /// peer median: "0 vs 0 (catatonit)".
    fn count_versus_best_peer(&self, key: &str) -> Option<String> {
        let foster = self.named(Role::Foster).next()?;
        let mine = self.spread(&foster.name, key)?.median;
        let best = self.best(Role::Peer, key)?;
        let theirs = self.spread(&best.name, key)?.median;
        Some(format!("{mine:.0} vs {theirs:.0} ({})", best.name))
    }

    /// How many rounds, how far apart they were, and how far apart foster
    /// and its second copy landed.
    fn notes(&self) -> String {
        let costs = || {
            ROWS.iter()
                .filter(|row| row.kind == Kind::Cost && row.key != "size_bytes")
        };
        let foster = self.named(Role::Foster).next();
        let spreads: Vec<f64> = costs()
            .filter_map(|row| Some(self.spread(&foster?.name, row.key)?.relative()))
            .collect();
        let mut out = format!(
            "Each figure is the median of {} rounds. In a round the inits take turns in a \
             new random order for every run, a figure is itself a median (p99: the 99th \
             percentile) of {} signals, {} starts or {} stops, and each init reaps {} \
             orphans one after another and {} at once. Zombie counts give the lowest and \
             highest round in brackets.",
            self.rounds.len(),
            self.plan.signals,
            self.plan.startup_runs,
            self.plan.stops,
            self.plan.orphans,
            self.plan.burst
        );
        if !spreads.is_empty() {
            out.push_str(&format!(
                " Between rounds, foster's figures moved by {:.0}% of their median (highest \
                 minus lowest round; the median over the rows).",
                100.0 * median(&spreads)
            ));
        }
        let control = self.named(Role::Control).next();
        let gaps: Vec<f64> = costs()
            .filter_map(|row| Some((self.versus(control?, row.key)?.ratio.median - 1.0).abs()))
            .collect();
        if !gaps.is_empty() {
            out.push_str(&format!(
                " foster-again is the same binary as foster: the two differed by {:.0}% \
                 (the median over the rows), by {:.0}% at most; a ratio closer to 1 than that \
                 is a tie.",
                100.0 * median(&gaps),
                100.0 * gaps.iter().copied().fold(0.0, f64::max)
            ));
        }
        out.push_str(
            " Ratios are the median of the rounds' ratios to the init with the lowest \
             median, the lowest and highest round in brackets.",
        );
        if !self.placement.is_empty() {
            out.push(' ');
            out.push_str(&self.placement);
        }
        out.push('\n');
        out
    }

    /// Every figure as JSON: medians, spreads, each round, and foster's
    /// ratios to the best peer and to the floor.
    pub fn json(&self) -> Value {
        let mut figures = Map::new();
        let mut spreads = Map::new();
        let names = self.rounds.iter().flat_map(|round| round.0.keys());
        let mut names: Vec<&String> = names.collect();
        names.sort();
        names.dedup();
        for name in names {
            let keys = self.rounds.iter().filter_map(|round| round.0.get(name));
            let keys = keys.flat_map(|figures| figures.keys());
            let mut keys: Vec<&&str> = keys.collect();
            keys.sort();
            keys.dedup();
            let mut medians = Map::new();
            let mut ranges = Map::new();
            for key in keys {
                if let Some(spread) = self.spread(name, key) {
                    medians.insert(key.to_string(), json!(spread.median));
                    ranges.insert(key.to_string(), spread_json(spread));
                }
            }
            figures.insert(name.clone(), medians.into());
            spreads.insert(name.clone(), ranges.into());
        }
        let mut versus_peer = Map::new();
        let mut versus_floor = Map::new();
        for row in ROWS.iter().filter(|row| row.kind == Kind::Cost) {
            for (role, table) in [
                (Role::Peer, &mut versus_peer),
                (Role::Floor, &mut versus_floor),
            ] {
                if let Some(v) = self.versus_best(role, row.key) {
                    let mut entry = spread_json(v.ratio);
                    entry["versus"] = json!(v.other);
                    table.insert(row.key.into(), entry);
                }
            }
        }
        let per_round: Vec<Value> = self.rounds.iter().map(|round| json!(round.0)).collect();
        let missing: Vec<&str> = self
            .inits
            .iter()
            .filter(|i| i.path.is_none())
            .map(|i| i.name.as_str())
            .collect();
        json!({
            "rounds": self.rounds.len(),
            "placement": self.placement,
            "figures": figures,
            "spread": spreads,
            "foster_vs_best_peer": versus_peer,
            "foster_vs_floor": versus_floor,
            "per_round": per_round,
            "missing": missing,
        })
    }

    /// Writes [`Results::json`] to `file` (`-`: stdout).
    pub fn write_json(&self, file: &str) {
        let text = format!("{:#}\n", self.json());
        let written = if file == "-" {
            std::io::stdout().write_all(text.as_bytes())
        } else {
            std::fs::write(file, text)
        };
        if let Err(e) = written {
            fail("initbench", 1, &format!("writing {file}: {e}"));
        }
    }
}

fn spread_json(spread: Spread) -> Value {
    json!({ "median": spread.median, "low": spread.low, "high": spread.high })
}

/// A figure as the table shows it.
fn figure(row: &Row, value: f64) -> String {
    match row.kind {
        Kind::Flag if value > 0.0 => "yes".into(),
        Kind::Flag => "no".into(),
        _ => format!("{value:.decimals$}", decimals = row.decimals),
    }
}

/// `0.95` for one round, `0.95 (0.90–1.01)` for several.
fn ratio_text(ratio: Spread) -> String {
    if ratio.rounds > 1 {
        format!("{:.2} ({:.2}–{:.2})", ratio.median, ratio.low, ratio.high)
    } else {
        format!("{:.2}", ratio.median)
    }
}

#[cfg(test)]
mod tests;
