//! `experiment`, through which every `cmdrun` line of the book runs: the
//! book's programs on `$PATH`, one line for what cannot run, a failure that
//! never fails the book, remembered outputs, progress to mdbook's terminal.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const EXPERIMENT: &str = env!("CARGO_BIN_EXE_experiment");

/// A `--what` no other run uses, so that each test has its own memory.
fn unique_what(test: &str) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    format!("The test {test} {}-{run}", std::process::id())
}

/// `experiment --no-build --chapter 0 --what WHAT OPTIONS -- COMMAND`,
/// with extra environment variables.
fn experiment(what: &str, options: &[&str], command: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(EXPERIMENT)
        .args(["--no-build", "--chapter", "0", "--what", what])
        .args(options)
        .arg("--")
        .args(command)
        .env_remove("ORPHANS_RERUN")
        .envs(env.iter().copied())
        .output()
        .expect("experiment starts")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "experiment failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_books_programs_are_on_the_path() {
    let what = unique_what("path");
    let page = stdout(&experiment(&what, &[], &["probe", "--format", "json"], &[]));
    let rows: serde_json::Value = serde_json::from_str(&page).expect("the probe's JSON");
    assert_eq!(common::row(&rows, "child")["parent_comm"], "probe");
}

#[test]
fn a_second_run_is_reused_until_asked_to_run_again() {
    let what = unique_what("memory");
    // A shell's PID differs from run to run: the same output means reused.
    let command = ["sh", "-c", "echo \"run by $$\""];
    let first = experiment(&what, &[], &command, &[]);
    let second = experiment(&what, &[], &command, &[]);
    assert_reused(&first, &second);
    let again = experiment(&what, &[], &command, &[("ORPHANS_RERUN", "1")]);
    assert_ne!(stdout(&again), stdout(&first));
    let other = experiment(&what, &[], &["sh", "-c", "echo \"other $$\""], &[]);
    assert!(stdout(&other).starts_with("other "), "another command runs");
}

#[test]
fn a_relinked_program_is_still_the_same_program() {
    // `cargo test` and `cargo build` link the book's programs anew (with
    // other features of the crates they share): the key is what they are
    // built from, not when they were linked.
    let what = unique_what("relinked");
    let command = [
        "sh",
        "-c",
        "probe --format json >/dev/null; echo \"run by $$\"",
    ];
    let first = experiment(&what, &[], &command, &[]);
    let probe = Path::new(EXPERIMENT).with_file_name("probe");
    let touched = Command::new("touch").arg(&probe).status();
    assert!(
        touched.is_ok_and(|s| s.success()),
        "touch {}",
        probe.display()
    );
    let second = experiment(&what, &[], &command, &[]);
    assert_reused(&first, &second);
}

/// Checks that `second` showed what `first` printed, remembered.
fn assert_reused(first: &Output, second: &Output) {
    assert_eq!(stdout(first), stdout(second));
    assert!(
        stderr(second).contains("reused the output"),
        "{}",
        stderr(second)
    );
}

#[test]
fn a_failure_keeps_the_output_adds_one_line_and_is_not_remembered() {
    let what = unique_what("failure");
    let command = [
        "sh",
        "-c",
        "echo '| a | table |'; echo 'first words' >&2; echo 'last words' >&2; exit 4",
    ];
    let output = experiment(&what, &[], &command, &[]);
    let page = stdout(&output);
    let lines: Vec<&str> = page.lines().collect();
    assert_eq!(lines[0], "| a | table |");
    assert_eq!(lines.len(), 3, "{page}");
    assert!(
        lines[2].starts_with(&format!("*Not run here: {what} failed on this machine: `sh` ended with exit status: 4: last words")),
        "{page}"
    );
    assert!(
        !page.contains("first words"),
        "one line, not the whole stderr"
    );
    assert!(
        stderr(&output).contains("first words"),
        "stderr goes to the log"
    );
    let again = experiment(&what, &[], &command, &[]);
    assert!(stderr(&again).contains("started"), "{}", stderr(&again));
}

#[test]
fn text_output_is_fenced_and_the_note_stays_outside() {
    let what = unique_what("text");
    let command = ["sh", "-c", "echo '*not emphasis*'; exit 1"];
    let page = stdout(&experiment(&what, &["--text"], &command, &[]));
    assert!(
        page.starts_with("```text\n*not emphasis*\n```\n\n*Not run here: "),
        "{page}"
    );
}

/// The page of `sh -c 'echo ran'` with `options`, on a machine whose
/// busybox is missing.
fn page_without_busybox(what: &str, options: &[&str]) -> String {
    let command = ["sh", "-c", "echo ran"];
    let no_busybox = [("ORPHANS_BUSYBOX", "/nonexistent/busybox")];
    stdout(&experiment(what, options, &command, &no_busybox))
}

#[test]
fn a_missing_component_is_one_line_and_nothing_runs() {
    let what = unique_what("missing");
    let page = page_without_busybox(&what, &["--needs", "namespaces,busybox"]);
    assert!(!page.lines().any(|line| line == "ran"), "{page}");
    assert_eq!(page.lines().count(), 1, "{page}");
    assert!(
        page.contains(&format!("*Not run here: {what} needs ")) && page.contains(
            "a static busybox: there is no /nonexistent/busybox. To run it: apt-get install busybox-static"
        ),
        "{page}"
    );
}

#[test]
fn a_wanted_component_that_is_missing_adds_its_line_after_the_output() {
    let what = unique_what("wanted");
    let page = page_without_busybox(&what, &["--wants", "busybox"]);
    assert!(page.starts_with("ran\n\n*Not run here: "), "{page}");
}

#[test]
fn without_the_musl_target_the_debug_foster_stands_in_and_the_page_says_so() {
    let what = unique_what("foster");
    // A rustc that names no sysroot: no musl target.
    let output = experiment(
        &what,
        &["--wants", "static-foster"],
        &["sh", "-c", "echo \"$ORPHANS_FOSTER\""],
        &[("RUSTC", "/bin/false")],
    );
    let page = stdout(&output);
    let foster = page.lines().next().unwrap_or_default();
    let debug_foster = Path::new(EXPERIMENT).with_file_name("foster");
    assert_eq!(Path::new(foster), debug_foster, "{page}");
    assert!(
        page.contains("*Not run here: Measuring foster's static build (the debug build was measured instead) needs the musl target"),
        "{page}"
    );
}

#[test]
fn a_docker_that_cannot_run_containers_is_named_in_the_line() {
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/broken-bridge");
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let what = unique_what("docker");
    let output = experiment(
        &what,
        &["--needs", "image"],
        &["sh", "-c", "echo ran"],
        &[("PATH", &path)],
    );
    let page = stdout(&output);
    assert_eq!(page.lines().count(), 1, "{page}");
    assert!(
        page.contains(
            "needs a Docker engine that can run containers: `docker run --network none` failed"
        ) && page.contains("could not find bridge docker0"),
        "{page}"
    );
}

#[test]
fn progress_goes_to_the_stderr_of_mdbook_cmdrun() {
    // A stand-in for mdbook-cmdrun: a script of that name that runs its
    // argument with `sh -c`, as the preprocessor does with each line.
    let dir = std::env::temp_dir().join(format!("orphans-cmdrun-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let cmdrun = dir.join("mdbook-cmdrun");
    std::fs::write(&cmdrun, "#!/bin/sh\nsh -c \"$1\"\n").expect("write the stand-in");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cmdrun, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let what = unique_what("progress");
    // The line throws the experiment's own stderr away, as cmdrun does.
    let line = format!("{EXPERIMENT} --no-build --chapter 3 --what '{what}' -- true 2>/dev/null");
    let output = Command::new(&cmdrun)
        .arg(line)
        .output()
        .expect("run the stand-in");
    let _ = std::fs::remove_dir_all(&dir);
    let log = stderr(&output);
    assert!(
        log.contains(&format!("experiment: chapter 3, {what}: started")),
        "{log}"
    );
    assert!(
        log.contains(&format!("experiment: chapter 3, {what}: done in ")),
        "{log}"
    );
}

#[test]
fn a_command_over_its_time_is_stopped_with_all_it_started() {
    let what = unique_what("timeout");
    let marker = std::env::temp_dir().join(format!("orphans-timeout-{}", std::process::id()));
    let script = format!(
        "echo before; (sleep 3; touch {}) & sleep 30",
        marker.display()
    );
    let started = Instant::now();
    let output = experiment(&what, &["--timeout", "1"], &["sh", "-c", &script], &[]);
    let page = stdout(&output);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it waited for sleep 30"
    );
    assert!(page.starts_with("before\n\n*Not run here: "), "{page}");
    assert!(page.contains("did not finish within 1 s"), "{page}");
    // The background subshell was in the group that was killed.
    std::thread::sleep(Duration::from_secs(4));
    assert!(!marker.exists(), "a process of the experiment outlived it");
}

#[test]
fn check_lists_every_component_and_fails_for_a_required_missing_one() {
    let output = Command::new(EXPERIMENT)
        .args(["--check", "--require", "busybox"])
        .env("ORPHANS_BUSYBOX", "/nonexistent/busybox")
        .output()
        .expect("experiment starts");
    let text = String::from_utf8_lossy(&output.stdout);
    for name in [
        "namespaces",
        "docker",
        "busybox",
        "image",
        "musl",
        "peer-inits",
        "browser",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{name}: "))),
            "{name}: {text}"
        );
    }
    assert!(text.contains("busybox: no"), "{text}");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("required but missing: busybox"));
}

#[test]
fn bad_arguments_exit_2_with_the_usage() {
    for args in [
        &["--chapter", "1", "--what", "x"][..],
        &[
            "--chapter",
            "1",
            "--what",
            "x",
            "--needs",
            "teleporter",
            "--",
            "true",
        ],
        &["--what", "x", "--", "true"],
        &["--bogus"],
    ] {
        let output = Command::new(EXPERIMENT)
            .args(args)
            .output()
            .expect("starts");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("usage: experiment"), "{args:?}");
    }
}
