//! The figures a round records, and what is said about many samples or
//! many rounds: medians, percentiles, the spread between rounds.

use std::collections::BTreeMap;

/// Every figure of one round: init name, then measure key, then value.
/// `(none)` holds what was measured without an init.
#[derive(Default, Clone)]
pub struct Figures(pub BTreeMap<String, BTreeMap<&'static str, f64>>);

/// The name under which figures measured without any init are recorded.
pub const NO_INIT: &str = "(none)";

impl Figures {
    pub fn record(&mut self, init: &str, key: &'static str, value: f64) {
        self.0
            .entry(init.to_string())
            .or_default()
            .insert(key, value);
    }

    pub fn get(&self, init: &str, key: &str) -> Option<f64> {
        self.0.get(init)?.get(key).copied()
    }
}

pub fn median(samples: &[f64]) -> f64 {
    percentile(samples, 0.5)
}

/// The value below which `fraction` of the samples lie (nearest rank);
/// NaN for no samples.
pub fn percentile(samples: &[f64], fraction: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One figure over all rounds: the median of the rounds, and the lowest
/// and highest round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    pub rounds: usize,
}

impl Spread {
    /// `None` when no round has the figure.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let low = finite.iter().copied().reduce(f64::min)?;
        let high = finite.iter().copied().reduce(f64::max)?;
        Some(Spread {
            median: median(&finite),
            low,
            high,
            rounds: finite.len(),
        })
    }

    /// Highest minus lowest round, as a fraction of the median (0 when
    /// the median is 0).
    pub fn relative(&self) -> f64 {
        if self.median.abs() > 0.0 {
            (self.high - self.low) / self.median.abs()
        } else {
            0.0
        }
    }
}

/// `key` of `init` in every round that has it.
pub fn across_rounds(rounds: &[Figures], init: &str, key: &str) -> Vec<f64> {
    rounds.iter().filter_map(|r| r.get(init, key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(median(&samples), 3.0);
        assert_eq!(percentile(&samples, 0.99), 5.0);
        assert_eq!(percentile(&samples, 0.0), 1.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn spread_of_rounds() {
        let spread = Spread::of(&[10.0, f64::NAN, 12.0, 8.0]).expect("three rounds");
        assert_eq!((spread.median, spread.low, spread.high), (10.0, 8.0, 12.0));
        assert_eq!(spread.rounds, 3);
        assert!((spread.relative() - 0.4).abs() < 1e-9);
        assert_eq!(Spread::of(&[]), None);
    }
}
