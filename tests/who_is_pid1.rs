//! Chapter 13 (and chapter 9's trap table): who is PID 1 under each way of
//! starting `app`, and what follows for zombies and SIGTERM.

mod common;

use std::ffi::OsString;
use std::time::Duration;

use common::{run, skip_without_docker, skip_without_namespaces};
use orphans::namespace::stop::{stop, Outcome, Plan};

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
const APP: &str = env!("CARGO_BIN_EXE_app");
const PID1_TABLE: &str = env!("CARGO_BIN_EXE_pid1-table");

/// Stops `command` (PID 1 of a new namespace) after `app` is ready.
fn stopped(command: &[&str]) -> Outcome {
    let plan = Plan {
        container: CONTAINER.into(),
        command: command.iter().map(OsString::from).collect(),
        // Room for `app` to exit on SIGTERM on a busy machine.
        grace: Duration::from_secs(3),
        ready: 1,
    };
    stop(&plan).expect("the stop")
}

fn zombies(outcome: &Outcome) -> usize {
    outcome.running.iter().filter(|n| *n == "orphan").count()
}

fn heard(outcome: &Outcome) -> bool {
    outcome.heard_sigterm.iter().any(|(name, _)| name == "app")
}

#[test]
fn app_as_pid_1_hears_sigterm_but_keeps_its_orphans_as_zombies() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let outcome = stopped(&[APP, "--orphans", "4"]);
    assert_eq!(outcome.running.first().map(String::as_str), Some("app"));
    assert_eq!(zombies(&outcome), 4, "{outcome:?}");
    assert!(heard(&outcome), "{outcome:?}");
    assert!(!outcome.killed);
    assert_eq!(outcome.status, 0);
}

#[test]
fn dash_as_pid_1_reaps_but_drops_sigterm() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let script = format!("{APP} --orphans 4");
    let outcome = stopped(&["/bin/dash", "-c", &script]);
    assert_eq!(outcome.running.first().map(String::as_str), Some("dash"));
    assert_eq!(zombies(&outcome), 0, "{outcome:?}");
    assert!(!heard(&outcome), "{outcome:?}");
    assert!(outcome.killed);
    assert_eq!(outcome.status, 137);
}

/// The cells of the table's rows whose first cell contains `label`.
fn rows_with<'a>(table: &'a str, label: &str) -> Vec<Vec<&'a str>> {
    table
        .lines()
        .filter(|line| line.starts_with("| ") && line.contains(label))
        .map(|line| line.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect()
}

#[test]
fn a_trap_runs_after_a_foreground_command_but_at_once_in_wait() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let output = run(PID1_TABLE, &["--traps", "--grace", "5"]);
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    let seconds = |cell: &str| -> f64 { cell.split(' ').next().unwrap().parse().expect("seconds") };
    let foreground = rows_with(&table, "script with `trap");
    let waiting = rows_with(&table, "`wait`");
    assert!(
        !foreground.is_empty() && foreground.len() == waiting.len(),
        "{table}"
    );
    for row in &foreground {
        // app is busy for 3 s from its "ready": the trap waits for it.
        assert!(seconds(row[2]) > 2.0, "{row:?}");
        assert_eq!(row[3], "143", "{row:?}");
    }
    for row in &waiting {
        assert!(seconds(row[2]) < 1.5, "{row:?}");
        assert_eq!(row[3], "143", "{row:?}");
    }
    // Chapter 9 reads the table from the sentence under it.
    assert!(
        table.contains("each shell ran its trap only once `app` had finished"),
        "{table}"
    );
}

#[test]
fn in_docker_the_image_shell_execs_a_shell_form_command() {
    if skip_without_docker() {
        return;
    }
    let output = run(PID1_TABLE, &["--docker"]);
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    let shell_form = &rows_with(&table, "shell form")[0];
    assert_eq!(shell_form[2], "`app`", "{table}");
    assert_eq!(shell_form[3], "3 of 3", "{table}");
    let no_exec = &rows_with(&table, "script ending in `\"$@\"`")[0];
    assert_eq!(no_exec[2], "`sh`", "{table}");
    assert_eq!(no_exec[4], "no", "{table}");
    let forwarding = &rows_with(&table, "passes SIGTERM on")[0];
    assert_eq!(forwarding[4], "yes", "{table}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    assert_eq!(run(APP, &["--orphans", "1000"]).status.code(), Some(2));
    assert_eq!(run(PID1_TABLE, &["--bogus"]).status.code(), Some(2));
}
