//! Smoke test of the benchmark: its quickest form, foster alone (with its
//! second copy and the floor, which always come along). It checks that every
//! figure is there and plausible; it never asserts that an init is fast.

mod common;

use common::{run, skip_without_namespaces};
use serde_json::Value;

const INITBENCH: &str = env!("CARGO_BIN_EXE_initbench");
const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
static FOSTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(common::foster_binary);

#[test]
fn quick_run_on_foster_reports_every_figure() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let (stdout, document) = bench_json(&[
        "--quick", "--only", "foster", "--foster", &FOSTER, "--json", "-",
    ]);
    let foster = &document["figures"]["foster"];
    for key in [
        "startup_overhead_ms",
        "idle_rss_kib",
        "idle_wakeups",
        "steady_cpu_us_per_orphan",
        "steady_peak_zombies",
        "burst_cpu_us_per_orphan",
        "burst_peak_zombies",
        "burst_zombies_left",
        "forward_median_us",
        "forward_p99_us",
        "forward_1cpu_median_us",
        "forward_1cpu_p99_us",
        "sigterm_to_exit_ms",
        "size_bytes",
    ] {
        let value = foster[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {foster}"));
        // Startup overhead is a difference of two medians: noise can make
        // it slightly negative, but never by more than a few milliseconds.
        let floor = if key == "startup_overhead_ms" {
            -5.0
        } else {
            0.0
        };
        assert!(value >= floor, "{key} = {value}");
    }
    assert!(foster["idle_rss_kib"].as_f64() > Some(0.0), "RSS was read");
    assert!(foster["size_bytes"].as_f64() > Some(10_000.0));
    assert_eq!(
        foster["burst_zombies_left"], 0.0,
        "foster reaped every orphan"
    );
    assert!(
        stdout.contains(
            "| measure | foster | foster-again | best peer | foster ÷ best peer | floor |"
        ),
        "the markdown table is printed"
    );
    assert!(
        stdout.starts_with("**In short.**"),
        "the verdict comes first"
    );
    // foster's system calls per event are the floor's, call for call.
    let calls = &document["syscalls"]["foster"];
    for (event, name, count) in [
        ("per_orphan", "wait4", 2.0),
        ("per_orphan", "read", 1.0),
        ("per_signal", "read", 1.0),
        ("per_signal", "kill", 1.0),
    ] {
        let counted = calls[event][name].as_f64().unwrap_or(0.0);
        assert!((counted - count).abs() < 0.05, "{event} {name}: {calls}");
    }
    assert!(
        stdout.contains("call for call: those of relay-signalfd."),
        "{stdout}"
    );
    assert!(document["missing"].as_array().is_some_and(|m| m.is_empty()));
    assert_eq!(document["rounds"], 3, "quick mode runs three rounds");
    assert_eq!(document["per_round"].as_array().map(Vec::len), Some(3));
    assert!(stdout.contains("Each figure is the median of 3 rounds"));
    counts_repeat(&document, &stdout);
}

/// The instruction counts, where valgrind runs: there for every event,
/// and the same for foster and foster-again, counted in separate runs
/// (within 1 %). Without valgrind, one line says so.
fn counts_repeat(document: &Value, stdout: &str) {
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if common::skip_unless(
        "ORPHANS_REQUIRE_VALGRIND",
        (!valgrind).then(|| "valgrind is not installed".to_string()),
    ) {
        assert!(stdout.contains("Not run here: The instruction counts needs valgrind"));
        return;
    }
    for key in [
        "instructions_start",
        "instructions_per_orphan",
        "instructions_per_signal",
    ] {
        let count = |init: &str| {
            document["counts"][init][key]
                .as_f64()
                .unwrap_or_else(|| panic!("{init} {key}: {}", document["counts"]))
        };
        let (once, again) = (count("foster"), count("foster-again"));
        assert!(once > 0.0, "{key} = {once}");
        assert!(
            (once - again).abs() <= once * 0.01,
            "{key}: {once} then {again}"
        );
    }
    assert!(stdout.contains("<svg"), "the chart is drawn");
}

#[test]
fn the_placement_comparison_is_a_table_or_one_line() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let output = run(
        INITBENCH,
        &[
            "--quick",
            "--rounds",
            "1",
            "--placement",
            "--only",
            "foster",
            "--foster",
            &FOSTER,
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let table = stdout.starts_with("| where the run was | foster | foster-again |")
        && stdout.contains("| a CPU cgroup of its own |");
    let one_line = stdout.starts_with("*Not run here: The autogroup comparison needs")
        && stdout.lines().count() == 1;
    assert!(table || one_line, "{stdout}");
}

#[test]
fn the_floor_is_measured_beside_foster() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let (_, document) = bench_json(&[
        "--quick",
        "--rounds",
        "1",
        "--measures",
        "forwarding,stopping",
        "--only",
        "foster",
        "--foster",
        &FOSTER,
        "--json",
        "-",
    ]);
    let figure = |init: &str, key: &str| {
        document["figures"][init][key]
            .as_f64()
            .unwrap_or_else(|| panic!("{init} {key} missing: {}", document["figures"]))
    };
    // Both relays forward and exit on SIGTERM like an init.
    for relay in ["relay-signalfd", "relay-sigwait"] {
        assert!(figure(relay, "forward_median_us") > 0.0);
        assert!(figure(relay, "sigterm_to_exit_ms") > 0.0);
    }
    // One hop is faster than two: a signal straight to the recorder beats
    // the same signal through foster (the median of hundreds).
    assert!(
        figure("(none)", "direct_kill_median_us") < figure("foster", "forward_median_us"),
        "{}",
        document["figures"]
    );
    assert!(figure("foster-again", "forward_median_us") > 0.0);
    assert!(document["foster_vs_floor"]["forward_median_us"]["median"].as_f64() > Some(0.0));
    // Only the measures asked for.
    assert!(document["figures"]["foster"].get("idle_rss_kib").is_none());
}

/// Runs initbench with `args` (which end in `--json -`): its stdout, and
/// the JSON document printed after the table.
fn bench_json(args: &[&str]) -> (String, Value) {
    let output = run(INITBENCH, args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let json_start = stdout.find("\n{").expect("JSON after the table") + 1;
    let document = serde_json::from_str(&stdout[json_start..]).expect("valid JSON");
    (stdout, document)
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["--bogus"][..],
        &["--init", "nameonly"],
        &["--only", "nosuchinit"],
        &["--rounds", "0"],
        &["--measures", "startup,nosuch"],
        &["relay", "signalfd"],
        &["relay", "poll", "--", "true"],
        &["--placement", "--scale"],
        &["--scale", "--measures", "counts"],
        &["paced", "orphans"],
        &["paced", "orphans", "3", "--bogus"],
    ] {
        let output = run(INITBENCH, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage: initbench"));
    }
}

/// The workload of the scale rows, small: every orphan of every wave is
/// reaped (the workload waits for that before the next wave), and its
/// report reads back.
#[test]
fn waves_of_orphans_are_all_reaped() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let output = run(
        CONTAINER,
        &[FOSTER.as_str(), "--", INITBENCH, "waves", "300", "100"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let field = |key: &str| -> f64 {
        stdout
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{key} missing: {stdout}"))
    };
    assert!(field("seconds") > 0.0);
    assert!(field("peak_zombies") <= 100.0, "{stdout}");
    assert!(field("rss_before_kib") > 0.0, "PID 1's memory was read");
    assert!(field("rss_after_kib") > 0.0);
}
