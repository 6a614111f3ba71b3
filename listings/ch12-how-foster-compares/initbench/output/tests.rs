//! Tests of the report: the table, the ratios and the JSON.
use super::*;
use crate::syscalls::Calls;
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
        counts: Figures::default(),
        syscalls: None,
        scale: Figures::default(),
        mode: Mode::Bench,
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
        table.contains(
            "| forwarding, µs (median) | 30.0 | — | 20.0 (tini) | 0.80 (0.50–2.00) | 10.0 |"
        ),
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

/// Counts for foster, a peer and the floor, and the system calls.
fn counted<'a>(inits: &'a [Init], counts: &[(&str, [f64; 3])]) -> Results<'a> {
    let mut figures = Figures::default();
    for (name, values) in counts {
        for ((key, _, _), value) in COUNTS.iter().zip(values) {
            figures.record(name, key, *value);
        }
    }
    let calls = |init: &str, orphan: &[(&str, f64)]| Calls {
        init: init.into(),
        per_orphan: orphan.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
        per_signal: vec![("read".into(), 1.0), ("kill".into(), 1.0)],
    };
    Results {
        inits,
        rounds: Vec::new(),
        counts: figures,
        syscalls: Some(vec![
            calls("foster", &[("wait4", 2.0), ("read", 1.0)]),
            calls("tini", &[("wait4", 2.0), ("rt_sigtimedwait", 1.0)]),
            calls("relay", &[("wait4", 2.0), ("read", 1.0)]),
        ]),
        scale: Figures::default(),
        mode: Mode::Bench,
        plan: QUICK,
        measures: &[Measure::Counts, Measure::Syscalls],
        placement: String::new(),
    }
}

#[test]
fn the_verdict_and_the_calls_come_from_the_counts() {
    let inits = [
        init("foster", Role::Foster),
        init("tini", Role::Peer),
        init("relay", Role::Floor),
    ];
    let results = counted(
        &inits,
        &[
            ("foster", [17943.0, 106.0, 65.0]),
            ("tini", [19388.0, 117.0, 64.0]),
            ("relay", [50000.0, 90.0, 60.0]),
        ],
    );
    let verdict = results.verdict();
    assert!(
        verdict.contains("foster runs 17,943 to start a command and exit with it, 106 per orphan"),
        "{verdict}"
    );
    assert!(
        verdict.contains("best peer runs 19,388 (tini), 117 (tini)"),
        "{verdict}"
    );
    assert!(
        verdict.contains("foster is above it per signal forwarded"),
        "{verdict}"
    );
    assert!(
        verdict.contains("the same system calls as the floor (relay)"),
        "{verdict}"
    );
    let calls = results.syscalls.as_ref().expect("traced");
    let table = results.syscall_table(calls);
    assert!(
        table.contains("| foster | 2 wait4, 1 read | 1 read, 1 kill |"),
        "{table}"
    );
    assert!(table.contains("call for call: those of relay."), "{table}");
    // A floor that differs is not foster's.
    let other = [calls[0].clone(), calls[1].clone()];
    assert!(results
        .syscall_verdict(&other)
        .contains("differ from every floor's"));
    let json = results.json();
    assert_eq!(json["counts"]["tini"]["instructions_per_orphan"], 117.0);
    assert_eq!(json["syscalls"]["foster"]["per_orphan"]["wait4"], 2.0);
}

#[test]
fn counts_print_as_the_book_does() {
    assert_eq!(count_text(17943.0), "17,943");
    assert_eq!(count_text(106.0), "106");
    assert_eq!(count_text(64.5), "64.5");
    assert_eq!(count_text(1234567.4), "1,234,567");
}
