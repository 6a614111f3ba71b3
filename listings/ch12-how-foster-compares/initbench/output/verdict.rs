//! The verdict: one paragraph, every figure in it from this run, that says
//! where foster stands before any table does.

use orphans::initbench::plan::Role;

use super::table::{same_calls_as_a_floor, timed_keys};
use super::{count_text, Results, COUNTS};

impl Results<'_> {
    /// The paragraph, or nothing if foster was not measured.
    pub(super) fn verdict(&self) -> String {
        let parts: Vec<String> = [
            self.counts_verdict(),
            self.syscalls_verdict(),
            self.timing_verdict(),
            self.memory_verdict(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            return String::new();
        }
        format!("**In short.** {}", parts.join(" "))
    }

    /// foster's three counts against the best peer's, and whether foster
    /// is at or below it on each.
    fn counts_verdict(&self) -> Option<String> {
        let foster = self.foster()?;
        let mut mine = Vec::new();
        let mut theirs = Vec::new();
        let mut above = Vec::new();
        for &(key, event, _) in &COUNTS {
            let count = self.count(&foster.name, key)?.round();
            let (peer, best) = self.lowest_count(Role::Peer, key)?;
            mine.push(format!("{} {event}", count_text(count)));
            theirs.push(format!("{} ({})", count_text(best.round()), peer.name));
            if count > best.round() {
                above.push(event);
            }
        }
        let standing = if above.is_empty() {
            "foster is at or below it on all three".to_string()
        } else {
            format!("foster is above it {}", above.join(" and "))
        };
        Some(format!(
            "Counted in instructions, which come out the same on any machine and under \
             any load, foster runs {}, {} and {}; the best peer runs {}, {} and {}: \
             {standing}.",
            mine[0], mine[1], mine[2], theirs[0], theirs[1], theirs[2]
        ))
    }

    /// Whether foster's system calls per event are the floor's.
    fn syscalls_verdict(&self) -> Option<String> {
        Some(
            match same_calls_as_a_floor(self, self.syscalls.as_ref()?)? {
                Some(floor) => format!(
                    "Per event it makes the same system calls as the floor ({floor}), call for \
                 call."
                ),
                None => "Per event it makes other system calls than the floor (see the system \
                     calls below)."
                    .into(),
            },
        )
    }

    /// How far foster's timed medians are from the best peer's, against
    /// how far they are from its own (foster-again).
    fn timing_verdict(&self) -> Option<String> {
        let band = self.noise_band()?;
        let ratios: Vec<(&str, f64)> = timed_keys()
            .filter_map(|key| Some((key, self.versus_best(Role::Peer, key)?.ratio.median)))
            .collect();
        let low = ratios.iter().map(|r| r.1).reduce(f64::min)?;
        let high = ratios.iter().map(|r| r.1).reduce(f64::max)?;
        let noise = (1.0 - band.low).abs().max((band.high - 1.0).abs());
        let beyond = ratios
            .iter()
            .filter(|(_, ratio)| (ratio - 1.0).abs() > noise)
            .count();
        let reading = if beyond == 0 {
            "within that band on every timed row: the clock cannot tell the inits apart \
             here, which is why the counts come first"
                .to_string()
        } else {
            format!(
                "outside that band on {beyond} of the {} timed rows (the table shows which)",
                ratios.len()
            )
        };
        Some(format!(
            "Timed on this machine, foster's medians were {low:.2} to {high:.2} times the \
             best peer's, and {:.2} to {:.2} times its own when measured again as \
             foster-again; the ratios to the peers are {reading}.",
            band.low, band.high
        ))
    }

    /// foster's idle memory and binary size against the best peer's.
    fn memory_verdict(&self) -> Option<String> {
        let foster = self.foster()?;
        let figure = |init: &str, key: &str| Some(self.spread(init, key)?.median);
        let rss = figure(&foster.name, "idle_rss_kib")?;
        let peer_rss = self.best(Role::Peer, "idle_rss_kib")?;
        let size = figure(&foster.name, "size_bytes")?;
        let peer_size = self.best(Role::Peer, "size_bytes")?;
        Some(format!(
            "Idle, it holds {} KiB of memory ({}: {}), and its static binary is {} bytes \
             ({}, the smallest static peer: {}).",
            count_text(rss),
            peer_rss.name,
            count_text(figure(&peer_rss.name, "idle_rss_kib")?),
            count_text(size),
            peer_size.name,
            count_text(figure(&peer_size.name, "size_bytes")?)
        ))
    }
}
