//! Chapter 18: `pid1-doctor`'s verdict on each of the book's containers,
//! running in Docker; its command line, exit statuses and one-line errors;
//! and its Dockerfile rules as a user runs them. (The rules themselves
//! have unit tests over the corpus, in the program.)

mod common;

#[path = "../listings/ch18-is-your-container-affected/book_containers.rs"]
mod book_containers;

use std::path::Path;
use std::process::Output;

use common::{run, skip_without_docker};
use orphans::containers::engine::Engine;
use serde_json::Value;

const DOCTOR: &str = env!("CARGO_BIN_EXE_pid1-doctor");

fn corpus(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("listings/ch18-is-your-container-affected/dockerfiles")
        .join(name)
        .join("Dockerfile")
        .display()
        .to_string()
}

/// Asserts that `output` is a refusal: status 2, one line on stderr that
/// contains `words`, and no trace of a panic.
fn refused(output: &Output, words: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("pid1-doctor: ") && stderr.contains(words),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn dockerfiles_exit_0_when_fine_1_with_problems_2_when_unreadable() {
    let fine = run(DOCTOR, &["--dockerfile", &corpus("foster")]);
    assert_eq!(fine.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&fine.stdout), "verdict: fine\n");
    let shell = run(DOCTOR, &["--dockerfile", &corpus("shell-form")]);
    assert_eq!(shell.status.code(), Some(1));
    let text = String::from_utf8_lossy(&shell.stdout);
    assert!(
        text.contains("shell-form/Dockerfile:4: [shell-form]"),
        "{text}"
    );
    let json = run(
        DOCTOR,
        &["--json", "--dockerfile", &corpus("script-without-exec")],
    );
    let report: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["findings"][0]["rule"], "script-without-exec");
    assert_eq!(report["findings"][0]["line"], 6);
    refused(
        &run(DOCTOR, &["--dockerfile", &corpus("broken")]),
        "Dockerfile:3: unknown instruction",
    );
    refused(
        &run(DOCTOR, &["--dockerfile", &corpus("nowhere")]),
        "cannot read",
    );
}

#[test]
fn a_container_that_does_not_exist_is_one_line_and_status_2() {
    // Whatever this machine has (no engine at all gives another line).
    let output = run(DOCTOR, &["pid1-doctor-no-such-container"]);
    refused(&output, "");
}

/// The doctor's JSON report on the running container `name`.
fn diagnosis(name: &str, orphan_test: bool) -> (Option<i32>, Value) {
    let mut args = vec!["--engine", "docker", "--json", name];
    if orphan_test {
        args.insert(0, "--orphan-test");
    }
    let output = run(DOCTOR, &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reports: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    (output.status.code(), reports[0].clone())
}

/// Starts the book's pattern `name` and returns the doctor's report on it.
fn diagnose_pattern(
    engine: &Engine,
    image: &str,
    name: &str,
    orphan_test: bool,
) -> (Option<i32>, Value) {
    let pattern = book_containers::pattern(name).expect("a pattern");
    let running = book_containers::start(engine, image, &pattern)
        .unwrap_or_else(|e| panic!("{}: {e}", pattern.label));
    diagnosis(&running.name, orphan_test)
}

fn image() -> Option<String> {
    if skip_without_docker() {
        return None;
    }
    Some(
        orphans::capability::image_or_missing()
            .expect("the project's image")
            .reference,
    )
}

#[test]
fn the_verdict_on_each_of_the_books_containers() {
    let Some(image) = image() else { return };
    let engine = Engine::docker();
    for (name, verdict, zombies, pid1) in [
        ("naive-init", "both", 3, "naive-init"),
        ("foster", "fine", 0, "foster"),
        ("init", "fine", 0, "docker-init"),
        ("exec-form", "zombies", 3, "app"),
        // busybox's sh runs the last command with exec: app is PID 1.
        ("shell-form", "zombies", 3, "app"),
        ("script", "stop-waits", 0, "sh"),
    ] {
        let (status, report) = diagnose_pattern(&engine, &image, name, false);
        assert_eq!(report["verdict"], verdict, "{name}: {report}");
        assert_eq!(
            status,
            Some(if verdict == "fine" { 0 } else { 1 }),
            "{name}"
        );
        assert_eq!(report["pid1"]["comm"], pid1, "{name}: {report}");
        let found = report["zombies"].as_array().expect("zombies");
        assert_eq!(found.len(), zombies, "{name}: {report}");
        assert!(
            found
                .iter()
                .all(|z| z["parent"] == 1 && z["comm"] == "orphan"),
            "{name}: {report}"
        );
    }
}

#[test]
fn what_the_doctor_reads_of_pid_1() {
    let Some(image) = image() else { return };
    let engine = Engine::docker();
    let (_, init) = diagnose_pattern(&engine, &image, "init", false);
    assert_eq!(init["init"]["name"], "tini", "{init}");
    // tini waits for signals with sigtimedwait(2).
    assert_eq!(init["stop_disposition"], "waited for");
    assert_eq!(init["init"]["command"][0], "app");
    let (_, script) = diagnose_pattern(&engine, &image, "script", false);
    assert_eq!(script["shell"]["script"], "/entrypoint.sh", "{script}");
    assert_eq!(script["children"][0]["comm"], "app", "{script}");
    assert_eq!(script["stop_disposition"], "default");
    assert_eq!(script["stop_signal"], "SIGTERM");
    assert_eq!(script["stop_signal_named"], false);
}

#[test]
fn the_orphan_test_tells_a_reaper_from_a_sleeper() {
    let Some(image) = image() else { return };
    if !nix::unistd::Uid::effective().is_root() {
        common::skip_unless(
            "ORPHANS_REQUIRE_ROOT",
            Some("the orphan test needs root".into()),
        );
        return;
    }
    let engine = Engine::docker();
    let (status, sleep) = diagnose_pattern(&engine, &image, "sleep", true);
    assert_eq!(sleep["orphan_test"]["reaped"], false, "{sleep}");
    assert_eq!(sleep["verdict"], "both");
    assert_eq!(status, Some(1));
    let (status, foster) = diagnose_pattern(&engine, &image, "foster", true);
    assert_eq!(foster["orphan_test"]["reaped"], true, "{foster}");
    assert_eq!(foster["verdict"], "fine");
    assert_eq!(status, Some(0));
}

#[test]
fn a_stopped_container_is_one_line_and_status_2() {
    let Some(image) = image() else { return };
    let engine = Engine::docker();
    let pattern = book_containers::pattern("sleep").expect("a pattern");
    let running = book_containers::start(&engine, &image, &pattern).expect("starts");
    engine.run(&["kill", &running.name]).expect("docker kill");
    let output = run(DOCTOR, &["--engine", "docker", &running.name]);
    refused(&output, "is not running (exited)");
}
