//! Tests of the report: the table, the ratios and the JSON.
use super::*;
use orphans::initbench::plan::QUICK;

fn init(name: &str, role: Role) -> Init {
    Init {
        name: name.into(),
        path: Some("/bin/true".into()),
        args: Vec::new(),
        role,
    }
}

/// Three rounds. Over the rounds tini has the lowest median (20), so
/// foster is compared with tini in every round, even in the third,
/// where dumb-init happens to be lower.
fn results(inits: &[Init]) -> Results<'_> {
    let figures = [
        [
            ("foster", 10.0),
            ("tini", 20.0),
            ("dumb-init", 30.0),
            ("relay", 5.0),
        ],
        [
            ("foster", 40.0),
            ("tini", 50.0),
            ("dumb-init", 60.0),
            ("relay", 20.0),
        ],
        [
            ("foster", 30.0),
            ("tini", 15.0),
            ("dumb-init", 10.0),
            ("relay", 10.0),
        ],
    ];
    let rounds = figures
        .iter()
        .map(|round| {
            let mut one = Figures::default();
            for (name, value) in round {
                one.record(name, "forward_median_us", *value);
            }
            one
        })
        .collect();
    Results {
        inits,
        rounds,
        plan: QUICK,
        measures: &[Measure::Forwarding],
        placement: String::new(),
    }
}

#[test]
fn ratios_are_to_the_init_with_the_lowest_median() {
    let inits = [
        init("foster", Role::Foster),
        init("tini", Role::Peer),
        init("dumb-init", Role::Peer),
        init("relay", Role::Floor),
    ];
    let results = results(&inits);
    let versus = results
        .versus_best(Role::Peer, "forward_median_us")
        .expect("a ratio");
    assert_eq!(versus.other, "tini");
    assert_eq!(
        (versus.ratio.low, versus.ratio.median, versus.ratio.high),
        (0.5, 0.8, 2.0)
    );
    let floor = results
        .versus_best(Role::Floor, "forward_median_us")
        .expect("floor");
    assert_eq!((floor.ratio.low, floor.ratio.high), (2.0, 3.0));
    let table = results.markdown();
    assert!(
        table.contains("| signal forwarding, µs (median) | 30.0 | 0.80 (0.50–2.00) (tini) | 2.00 (2.00–3.00) | 20.0 | 30.0 | 10.0 | — |"),
        "{table}"
    );
    assert!(table.contains("Each figure is the median of 3 rounds"));
    assert!(!table.contains("startup"), "only the measures asked for");
    let document = results.json();
    assert_eq!(document["figures"]["foster"]["forward_median_us"], 30.0);
    assert_eq!(
        document["foster_vs_best_peer"]["forward_median_us"]["high"],
        2.0
    );
    assert_eq!(
        document["per_round"][2]["dumb-init"]["forward_median_us"],
        10.0
    );
}
