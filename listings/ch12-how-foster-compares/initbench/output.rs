//! What initbench prints: a verdict in a few sentences, the instruction
//! counts as a bar chart, the timed figures as a table of medians with
//! foster's ratio to the best peer, the system calls per event, and all of
//! it, every round included, as JSON for scripts.
//!
//! `table` makes the timed table, `chart` the picture, `verdict` the
//! sentences; this file holds what they share: the results and how to
//! compare them.

use std::io::Write;

use orphans::cli::fail;
use serde_json::{json, Map, Value};

use crate::cli::Mode;
use crate::counts::{PER_ORPHAN, PER_SIGNAL, START};
use crate::syscalls::Calls;
use orphans::initbench::plan::{Init, Measure, Plan, Role};
use orphans::initbench::stats::{across_rounds, Figures, Spread};

mod chart;
mod extra;
mod table;
mod verdict;

/// All rounds of one run, the counts, the inits and the measures.
pub struct Results<'a> {
    pub inits: &'a [Init],
    pub rounds: Vec<Figures>,
    /// The instruction counts, measured once (empty without valgrind).
    pub counts: Figures,
    /// System calls per event, if they were traced.
    pub syscalls: Option<Vec<Calls>>,
    /// The scale rows (`--scale`), by label.
    pub scale: Figures,
    /// The benchmark, or the comparison that replaced it.
    pub mode: Mode,
    pub plan: Plan,
    pub measures: &'a [Measure],
    /// Where the run was scheduled ([`orphans::initbench::cgroup`]), one
    /// sentence for the notes, or nothing.
    pub placement: String,
}

/// The three counts: key, what the event is, and whether the floor's
/// count means anything (the floor is initbench itself, whose own start
/// says nothing about inits).
pub const COUNTS: [(&str, &str, bool); 3] = [
    (START, "to start a command and exit with it", false),
    (PER_ORPHAN, "per orphan reaped", true),
    (PER_SIGNAL, "per signal forwarded", true),
];

/// foster's figure over another init's, round by round.
pub struct Versus {
    pub ratio: Spread,
    /// The init foster is compared with.
    pub other: String,
}

impl Results<'_> {
    fn spread(&self, init: &str, key: &str) -> Option<Spread> {
        Spread::of(&across_rounds(&self.rounds, init, key))
    }

    fn named(&self, role: Role) -> impl Iterator<Item = &Init> {
        self.inits.iter().filter(move |init| init.role == role)
    }

    fn foster(&self) -> Option<&Init> {
        self.named(Role::Foster).next()
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
        let foster = self.foster()?;
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

    /// An init's instruction count for `key`.
    fn count(&self, init: &str, key: &str) -> Option<f64> {
        self.counts.get(init, key)
    }

    /// The init of `role` with the lowest count for `key`, and its count.
    fn lowest_count(&self, role: Role, key: &str) -> Option<(&Init, f64)> {
        self.named(role)
            .filter_map(|init| Some((init, self.count(&init.name, key)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Everything, for the page: the verdict, the chart, the table and
    /// the system calls, each when it was measured.
    pub fn markdown(&self) -> String {
        match self.mode {
            Mode::Bench => {}
            Mode::Placement => return self.placement_table(),
            Mode::Scale => return self.scale_table(),
        }
        let mut out = String::new();
        let verdict = self.verdict();
        if !verdict.is_empty() {
            out.push_str(&verdict);
            out.push_str("\n\n");
        }
        if self.measures.contains(&Measure::Counts) {
            out.push_str(&self.counts_section());
        }
        if !self.rounds.is_empty() {
            out.push_str(&self.table());
            out.push('\n');
            out.push_str(&self.notes());
            out.push('\n');
        }
        if let Some(calls) = &self.syscalls {
            out.push_str(&self.syscall_table(calls));
        }
        out
    }

    /// Every figure as JSON: medians, spreads, each round, the counts, the
    /// system calls, and foster's ratios to the best peer and to the floor.
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
        for key in table::COST_KEYS {
            for (role, table) in [
                (Role::Peer, &mut versus_peer),
                (Role::Floor, &mut versus_floor),
            ] {
                if let Some(v) = self.versus_best(role, key) {
                    let mut entry = spread_json(v.ratio);
                    entry["versus"] = json!(v.other);
                    table.insert(key.into(), entry);
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
        let syscalls: Map<String, Value> = self
            .syscalls
            .iter()
            .flatten()
            .map(|calls| {
                let per = |list: &[(String, f64)]| -> Map<String, Value> {
                    list.iter()
                        .map(|(name, n)| (name.clone(), json!(n)))
                        .collect()
                };
                let entry = json!({
                    "per_orphan": per(&calls.per_orphan),
                    "per_signal": per(&calls.per_signal),
                });
                (calls.init.clone(), entry)
            })
            .collect();
        json!({
            "rounds": self.rounds.len(),
            "placement": self.placement,
            "figures": figures,
            "spread": spreads,
            "foster_vs_best_peer": versus_peer,
            "foster_vs_floor": versus_floor,
            "per_round": per_round,
            "counts": json!(self.counts.0),
            "scale": json!(self.scale.0),
            "syscalls": syscalls,
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

/// `0.95` for one round, `0.95 (0.90–1.01)` for several.
fn ratio_text(ratio: Spread) -> String {
    if ratio.rounds > 1 {
        format!("{:.2} ({:.2}–{:.2})", ratio.median, ratio.low, ratio.high)
    } else {
        format!("{:.2}", ratio.median)
    }
}

/// A count as the book prints it: commas between thousands (`17,943`),
/// one decimal below a thousand when it has a fraction (`64.5`).
pub fn count_text(value: f64) -> String {
    if value.fract().abs() >= 0.05 && value < 1000.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{:.0}", value.round());
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests;
