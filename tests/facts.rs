//! Facts the chapters measure rather than state: `pid_max` in the building
//! namespace and in a new one (chapter 8), and what `docker-init` is
//! (chapter 11).

mod common;

use common::{run, skip_without_docker, skip_without_namespaces};

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
const PID_MAX: &str = env!("CARGO_BIN_EXE_pid-max");

#[test]
fn both_namespaces_report_a_pid_max() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let output = run(PID_MAX, &[]);
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    let values: Vec<u64> = table
        .lines()
        .filter_map(|line| {
            line.trim_end_matches(" |")
                .rsplit("| ")
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let here: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(values.len(), 2, "{table}");
    assert_eq!(values[0], here, "{table}");
    assert!(values[1] > 300, "{table}");
}

#[test]
fn an_argument_is_a_usage_error() {
    assert_eq!(run(PID_MAX, &["x"]).status.code(), Some(2));
}

/// Chapter 11's `docker-init-version`: the binary behind `--init` says
/// what it is.
#[test]
fn docker_init_says_what_it_is() {
    if skip_without_docker() {
        return;
    }
    let example = std::path::Path::new(CONTAINER)
        .parent()
        .unwrap()
        .join("examples/docker-init-version");
    if !example.exists() {
        let built = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "--example", "docker-init-version"])
            .status()
            .unwrap();
        assert!(built.success());
    }
    let output = run(example.to_str().unwrap(), &[]);
    let table = String::from_utf8_lossy(&output.stdout);
    let row = table
        .lines()
        .find(|line| line.contains("--version`, in a container"))
        .unwrap_or_else(|| panic!("no version row: {table}"));
    // The binary's own answer, e.g. `tini version 0.19.0`.
    let answer = row.trim_end_matches(" |").rsplit(" | ").next().unwrap();
    assert!(
        answer.starts_with('`') && answer.contains(" version "),
        "{row}"
    );
}
