//! `options::parse` never panics and never returns options out of their
//! bounds, whatever command line and environment it is given: random
//! ones from proptest (which shrinks a failure to a small case and saves
//! its seed under `proptest-regressions/`, committed), and the corpus in
//! `tests/corpus/parse.txt`, tried on every run.
//!
//! The number of random cases is bounded for CI (256 unless
//! `PROPTEST_CASES` says otherwise); `PROPTEST_CASES=100000 cargo test -p
//! foster --test parse_fuzz` searches longer.

use std::ffi::OsString;

use foster::options::{parse, Grace, Request};
use proptest::prelude::*;

/// Parses `args` with the variables `vars`, and checks what came out.
fn check(args: &[String], vars: &[(String, String)]) {
    let env = |name: &str| {
        vars.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| OsString::from(value))
    };
    let args = args.iter().map(OsString::from).collect();
    match parse(args, &env) {
        Ok(Request::Run(options)) => {
            assert!(!options.command.is_empty());
            assert!(options.grace.duration() <= Grace::MAX);
            assert!(options.verbosity.level() <= 3);
            let signals = 1..=libc::SIGRTMAX();
            for &(from, to) in &options.rewrites {
                assert!(signals.contains(&from) && (to == 0 || signals.contains(&to)));
            }
        }
        Ok(_) => {}
        // A message for a person: one line or a few, never empty.
        Err(message) => assert!(!message.is_empty()),
    }
}

#[test]
fn the_corpus_parses_without_a_panic() {
    let corpus = include_str!("corpus/parse.txt");
    let mut cases = 0;
    for line in corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let (vars, args): (Vec<&str>, Vec<&str>) = match fields.split_first() {
            Some((&"env", rest)) => rest.iter().partition(|f| f.contains('=')),
            _ => (Vec::new(), fields),
        };
        let vars: Vec<(String, String)> = vars
            .iter()
            .filter_map(|v| v.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        check(&args, &vars);
        cases += 1;
    }
    assert!(cases >= 20, "the corpus lost its cases: {cases}");
}

/// Arguments as a user (or an attacker) might write them: foster's flags,
/// values near every limit, and arbitrary text.
fn argument() -> impl Strategy<Value = String> {
    let flag = prop::sample::select(vec![
        "-g",
        "-s",
        "-e",
        "-p",
        "-r",
        "-w",
        "-v",
        "-vv",
        "-l",
        "-V",
        "-h",
        "--grace",
        "--grace=",
        "--",
        "-",
        "--help",
        "--version",
        "-x",
        "-ee",
        "-e3",
    ])
    .prop_map(String::from);
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        (0u32..400).prop_map(|n| n.to_string()),
    ];
    let unit = prop::sample::select(vec!["", "s", "ms", "m", "h", "e19", "e400", "x"]);
    let duration = (number.clone(), unit).prop_map(|(n, u)| format!("{n}{u}"));
    let name = prop::sample::select(vec![
        "TERM", "SIGKILL", "usr1", "RTMIN", "RTMIN+", "RTMAX-", "SIGRTMAX", "0", "NOPE",
    ]);
    let signal = (name, prop::option::of(any::<i32>())).prop_map(|(n, offset)| match offset {
        Some(o) => format!("{n}{o}"),
        None => n.to_string(),
    });
    let rewrite = (signal.clone(), signal.clone()).prop_map(|(a, b)| format!("{a}:{b}"));
    prop_oneof![
        3 => flag,
        2 => number,
        2 => duration,
        2 => signal,
        2 => rewrite,
        1 => ".{0,12}",
    ]
}

/// Variables foster reads, with values of the same kinds.
fn variable() -> impl Strategy<Value = (String, String)> {
    let name = prop::sample::select(vec![
        "FOSTER_GRACE",
        "FOSTER_VERBOSITY",
        "TINI_VERBOSITY",
        "FOSTER_SUBREAPER",
        "TINI_SUBREAPER",
        "FOSTER_KILL_PROCESS_GROUP",
        "TINI_KILL_PROCESS_GROUP",
    ])
    .prop_map(String::from);
    (name, argument())
}

// proptest's default configuration: 256 cases, or PROPTEST_CASES.
proptest! {
    #[test]
    fn random_command_lines_parse_without_a_panic(
        args in prop::collection::vec(argument(), 0..8),
        vars in prop::collection::vec(variable(), 0..4),
    ) {
        check(&args, &vars);
    }
}
