//! Chapter 9: `docker stop` from outside a PID namespace, and where SIGTERM
//! goes.

mod common;

use common::{run, skip_without_docker, skip_without_namespaces, wait_for_child_of};
use orphans::process::deadline::{poll_until, TICK};
use serde_json::Value;

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
const STOPPER: &str = env!("CARGO_BIN_EXE_stopper");
const STOP_TABLE: &str = env!("CARGO_BIN_EXE_stop-table");
const NAIVE_INIT: &str = env!("CARGO_BIN_EXE_naive-init");
const WORKER: &str = env!("CARGO_BIN_EXE_worker");

/// The grace of [`stop`], in seconds: long enough for a program that
/// handles SIGTERM to exit within it on a busy machine.
const GRACE: f64 = 3.0;

/// The stopper's JSON report on stopping `command` with a [`GRACE`].
fn stop(command: &[&str]) -> Value {
    let grace = GRACE.to_string();
    let mut args = vec!["--grace", &grace, "--format", "json", "--"];
    args.extend(command);
    common::json_of(&run(STOPPER, &args))
}

/// The names that noted SIGTERM in the journal.
fn heard(report: &Value) -> Vec<String> {
    report["heard_sigterm"]
        .as_array()
        .expect("heard_sigterm")
        .iter()
        .map(|entry| entry["name"].as_str().expect("a name").to_string())
        .collect()
}

#[test]
fn sleep_as_pid_1_survives_sigterm_and_dies_only_by_sigkill() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let report = stop(&["sleep", "30"]);
    assert_eq!(report["running"], serde_json::json!(["sleep"]), "{report}");
    assert_eq!(
        report["killed"], true,
        "still running after the grace: {report}"
    );
    assert!(
        report["seconds"].as_f64().expect("seconds") >= GRACE,
        "{report}"
    );
    assert_eq!(report["status"], 128 + 9, "killed by SIGKILL: {report}");
}

#[test]
fn a_pid_1_with_a_sigterm_handler_hears_it() {
    // The control for the tests below: the journal works, so a missing
    // entry there means a missed SIGTERM.
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let report = stop(&[WORKER]);
    assert_eq!(heard(&report), ["worker"], "{report}");
    assert_eq!(report["killed"], false, "{report}");
    assert_eq!(report["status"], 0, "a clean shutdown: {report}");
}

#[test]
fn a_shell_like_pid_1_neither_hears_nor_passes_on_sigterm() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let report = stop(&[NAIVE_INIT, WORKER]);
    assert_eq!(
        report["running"],
        serde_json::json!(["naive-init", "worker"])
    );
    assert_eq!(heard(&report), Vec::<String>::new(), "{report}");
    assert_eq!(report["killed"], true, "{report}");
    assert_eq!(report["status"], 128 + 9, "{report}");
}

#[test]
fn a_non_forwarding_pid_1_exits_and_its_child_never_hears_sigterm() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let report = stop(&[NAIVE_INIT, "--exit-on-term", WORKER]);
    assert_eq!(
        heard(&report),
        ["naive-init"],
        "the worker never noted it: {report}"
    );
    assert_eq!(report["killed"], false, "PID 1 left on SIGTERM: {report}");
    assert_eq!(report["status"], 128 + 15, "{report}");
}

#[test]
fn killing_the_stopper_takes_the_whole_namespace_down() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let mut stopper = std::process::Command::new(STOPPER)
        .args(["--grace", "30", NAIVE_INIT, WORKER, "--lifetime", "60"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the stopper");
    let container = wait_for_child_of(stopper.id() as i32);
    let pid1 = wait_for_child_of(container);
    let worker = wait_for_child_of(pid1);
    stopper.kill().expect("SIGKILL the stopper");
    stopper.wait().expect("reap the stopper");
    let running = |pid: i32| !matches!(orphans::process::procfs::state(pid), None | Some('Z'));
    let five_seconds = std::time::Duration::from_secs(5);
    let gone = poll_until(five_seconds, TICK, || {
        (![container, pid1, worker].into_iter().any(running)).then_some(())
    });
    assert!(
        gone.is_some(),
        "still running 5 s after the stopper died: {container}, {pid1} or {worker}"
    );
}

#[test]
fn the_table_has_a_row_per_command() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let output = run(
        STOP_TABLE,
        &[
            "--grace",
            "0.2",
            "sleep 9",
            "naive-init --exit-on-term worker",
        ],
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{table}");
    let rows: Vec<&str> = table.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(
        rows[0].starts_with("| `sleep 9` | sleep | nobody |"),
        "{table}"
    );
    assert!(rows[0].ends_with("| 137 (SIGKILL) |"), "{table}");
    assert!(
        rows[1].contains("| naive-init, worker | naive-init (PID 1) |"),
        "{table}"
    );
}

#[test]
fn docker_stop_of_a_shell_like_pid_1_waits_out_the_grace_and_kills() {
    if skip_without_namespaces(CONTAINER) || skip_without_docker() {
        return;
    }
    // Builds the image of the book's programs first (static, FROM scratch).
    let output = run(STOP_TABLE, &["--grace", "1", "docker naive-init worker"]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{table}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = table.lines().nth(2).unwrap_or_default();
    assert!(
        row.starts_with("| `naive-init worker`, under Docker | naive-init, worker | nobody |"),
        "{table}"
    );
    assert!(
        row.ends_with("(SIGKILL after the 1 s grace) | 137 (SIGKILL) |"),
        "{table}"
    );
}

#[test]
fn bad_input_gives_a_clear_error() {
    for (program, args, message) in [
        (STOPPER, &[][..], "no command given"),
        (STOPPER, &["--grace", "x", "sleep", "1"][..], "seconds"),
        (
            STOPPER,
            &["--ready", "-1", "sleep", "1"][..],
            "whole number",
        ),
        (STOP_TABLE, &[][..], "no command given"),
        (STOP_TABLE, &[" "][..], "non-empty"),
        (STOP_TABLE, &["docker"][..], "non-empty"),
        (WORKER, &["--lifetime", "1e9"][..], "seconds"),
        (WORKER, &["extra"][..], "unexpected"),
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
}
