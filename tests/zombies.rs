//! Chapter 8: orphans that exit under a PID 1 that never reaps them stay
//! zombies; under one that reaps, none are left.

mod common;

use std::process::Command;

use common::{run, skip_without_docker, skip_without_namespaces};
use serde_json::Value;

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
const NAIVE_INIT: &str = env!("CARGO_BIN_EXE_naive-init");
const ORPHAN_MAKER: &str = env!("CARGO_BIN_EXE_orphan-maker");
const ZOMBIE_TABLE: &str = env!("CARGO_BIN_EXE_zombie-table");
const SUBREAPER: &str = env!("CARGO_BIN_EXE_subreaper");

/// The JSON report of `orphan-maker` in the stdout of `command`: the line
/// that starts with `{`.
fn report_of(command: &mut Command) -> Value {
    let output = command.output().expect("run container");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "failed with {}: {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|line| line.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON report in: {stdout}"));
    serde_json::from_str(line).expect("orphan-maker's JSON")
}

/// `orphan-maker -n N --format json` after the PID 1 words `pid1`.
fn under(pid1: &[&str], orphans: u32) -> Command {
    let mut command = Command::new(CONTAINER);
    command
        .args(pid1)
        .args([ORPHAN_MAKER, "--format", "json", "-n"]);
    command.arg(orphans.to_string());
    command
}

/// The PIDs in `report[key]` (numbers, or objects with a "pid").
fn pids(report: &Value, key: &str) -> Vec<i64> {
    let mut pids: Vec<i64> = report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
        .iter()
        .map(|v| v.as_i64().or_else(|| v["pid"].as_i64()).expect("a PID"))
        .collect();
    pids.sort_unstable();
    pids
}

#[test]
fn a_naive_pid_1_leaves_exactly_one_zombie_per_orphan() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let report = report_of(&mut under(&[NAIVE_INIT], 4));
    assert_eq!(pids(&report, "orphans").len(), 4, "{report}");
    assert_eq!(
        pids(&report, "zombies"),
        pids(&report, "orphans"),
        "every orphan, and nothing else, is a zombie: {report}"
    );
    for zombie in report["zombies"].as_array().expect("zombies") {
        assert_eq!(zombie["parent"], 1, "adopted by PID 1: {report}");
        assert_eq!(zombie["parent_comm"], "naive-init");
    }
}

#[test]
fn a_workload_that_is_its_own_pid_1_keeps_its_zombies_too() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let report = report_of(&mut under(&[], 3));
    assert_eq!(pids(&report, "zombies"), pids(&report, "orphans"));
    assert_eq!(report["pid1_comm"], "orphan-maker");
}

#[test]
fn a_reaping_pid_1_leaves_no_zombie() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let mut command = Command::new(CONTAINER);
    command.args([SUBREAPER, ORPHAN_MAKER, "--format", "json", "-n", "4"]);
    let report = report_of(&mut command);
    assert_eq!(pids(&report, "orphans").len(), 4, "{report}");
    assert_eq!(pids(&report, "zombies"), Vec::<i64>::new(), "{report}");
}

#[test]
fn the_table_has_a_row_per_pid_1_with_its_zombies() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let output = run(
        ZOMBIE_TABLE,
        &["-n", "2", "--settle", "0.1", "naive-init", "-"],
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{table}");
    let rows: Vec<&str> = table
        .lines()
        .filter(|line| line.starts_with("| "))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(
        rows[0].starts_with("| `naive-init` | 2 | 2 | PID 1 (naive-init) |"),
        "{table}"
    );
    assert!(
        rows[1].contains("| 2 | 2 | PID 1 (orphan-maker) |"),
        "{table}"
    );
    // The sentence under the table says what the rows say.
    assert!(
        table.contains(
            "Every orphan that exited stayed a zombie with `naive-init` as PID 1 \
             and with `orphan-maker` itself as PID 1."
        ),
        "{table}"
    );
}

#[test]
fn under_a_pids_limit_the_zombies_make_fork_fail() {
    if skip_without_namespaces(CONTAINER) || skip_without_docker() {
        return;
    }
    // Builds the image of the book's programs first (static, FROM scratch).
    let output = run(
        ZOMBIE_TABLE,
        &["-n", "30", "--pids-limit", "12", "docker naive-init"],
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{table}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = table.lines().nth(2).unwrap_or_default();
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert!(
        cells[1].starts_with("`naive-init`, under Docker"),
        "{table}"
    );
    let (orphans, zombies): (u32, u32) = (
        cells[2].parse().expect("orphans"),
        cells[3].parse().expect("zombies"),
    );
    assert!(orphans < 30, "the limit stopped the orphans: {table}");
    assert_eq!(zombies, orphans, "{table}");
    assert!(
        cells[5].contains("EAGAIN"),
        "fork failed with EAGAIN: {table}"
    );
    // The sentence under the table counts the places: zombies and the rest.
    let places = format!(
        "when {zombies} of the 12 places were held by zombies, processes that had already \
         finished, and {} by processes still running",
        12 - zombies
    );
    assert!(table.contains(&places), "{table}");
}

#[test]
fn bad_input_gives_a_clear_error() {
    for (program, args, message) in [
        (ORPHAN_MAKER, &["-n", "0"][..], "whole number"),
        (ORPHAN_MAKER, &["--format", "xml"][..], "text or json"),
        (ORPHAN_MAKER, &["extra"][..], "unexpected"),
        (NAIVE_INIT, &[][..], "no command given"),
        (NAIVE_INIT, &["--bogus", "true"][..], "--bogus"),
        (ZOMBIE_TABLE, &[][..], "no PID1 given"),
        (
            ZOMBIE_TABLE,
            &["--settle", "x", "naive-init"][..],
            "seconds",
        ),
    ] {
        let output = run(program, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{program} {args:?}: {stderr}"
        );
        assert!(stderr.contains(message), "{program} {args:?}: {stderr}");
    }
    assert_eq!(
        run(NAIVE_INIT, &["/no/such/program"]).status.code(),
        Some(127)
    );
    assert_eq!(
        run(NAIVE_INIT, &["sh", "-c", "exit 5"]).status.code(),
        Some(5)
    );
}
