//! Chapter 17: the runtimes as PID 1, under foster, with SIGCHLD ignored,
//! in Docker, and Kubernetes-style exec probes, through `runtime-table`.
//! A runtime this machine lacks is skipped (its row says so in one line).

mod common;

use std::process::Command;

use common::{skip_unless, skip_without_docker, skip_without_namespaces};
use orphans::capability::on_path;

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
const RUNTIME_TABLE: &str = env!("CARGO_BIN_EXE_runtime-table");

/// The table `runtime-table ARGS` prints, after checking that it succeeded.
fn table(args: &[&str]) -> String {
    let output = Command::new(RUNTIME_TABLE)
        .args(args)
        .output()
        .expect("runtime-table starts");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The cells of the row whose first cell is `` `label` ``.
fn row<'t>(table: &'t str, label: &str) -> Vec<&'t str> {
    let first = format!("`{label}`");
    table
        .lines()
        .map(|line| {
            line.trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first() == Some(&first.as_str()))
        .unwrap_or_else(|| panic!("no row {first} in:\n{table}"))
}

/// Whether `program` is on `$PATH`; if not, says the test skips its rows
/// (or fails, where `ORPHANS_REQUIRE_RUNTIMES=1` asks for every runtime).
fn have(program: &str) -> bool {
    let missing = on_path(program)
        .is_none()
        .then(|| format!("the rows of {program}: it is not on $PATH"));
    !skip_unless("ORPHANS_REQUIRE_RUNTIMES", missing)
}

#[test]
fn python_drops_sigterm_and_keeps_its_zombie_where_dash_reaps() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let table = table(&["--grace", "1", "--only", "python3", "--only", "dash"]);
    if have("python3") {
        let python = row(&table, "python3 app.py");
        assert_eq!(python[2], "default", "{python:?}");
        assert!(python[3].contains("SIGKILL"), "{python:?}");
        assert_eq!((python[4], python[5]), ("137", "1"), "{python:?}");
        assert!(
            table.contains("read its helper's exit status as 3"),
            "{table}"
        );
    }
    if have("dash") {
        let dash = row(&table, "dash app.sh");
        assert_eq!(
            (dash[1], dash[4], dash[5]),
            ("`dash`", "137", "0"),
            "{dash:?}"
        );
    }
}

#[test]
fn node_catches_sigterm_and_still_runs_out_the_grace() {
    if skip_without_namespaces(CONTAINER) || !have("node") {
        return;
    }
    let node = table(&["--grace", "1", "--only", "node"]);
    let cells = row(&node, "node app.js");
    assert_eq!(cells[2], "caught", "{cells:?}");
    assert!(cells[3].contains("SIGKILL"), "{cells:?}");
    assert_eq!(cells[4], "137", "{cells:?}");
}

#[test]
fn under_foster_every_row_stops_at_once_and_leaves_no_zombie() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let table = table(&["--foster", "--only", "python3", "--only", "bash"]);
    for (program, label) in [("python3", "python3 app.py"), ("bash", "bash app.sh")] {
        if !have(program) {
            continue;
        }
        let cells = row(&table, &format!("foster -- {label}"));
        assert!(!cells[1].contains("SIGKILL"), "{cells:?}");
        assert_eq!((cells[2], cells[3]), ("143", "0"), "{cells:?}");
    }
}

#[test]
fn sig_ign_clears_the_zombie_and_loses_the_helpers_status() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let table = table(&["--sigchld", "--only", "python3", "--only", "perl"]);
    if have("python3") {
        let python = row(&table, "python3 app.py --ignore-sigchld");
        assert_eq!(python[1..], ["ignored", "0", "0"], "{python:?}");
    }
    if have("perl") {
        let perl = row(&table, "perl app.pl --ignore-sigchld");
        assert_eq!(perl[1..], ["ignored", "0", "-1"], "{perl:?}");
    }
}

#[test]
fn a_runtime_that_is_missing_gets_one_line() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    // A $PATH with no python3 on it, but the `true` that `container`
    // starts to check that namespaces work.
    let dir = std::env::temp_dir().join(format!("orphans-no-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let truth = on_path("true").expect("true is on $PATH");
    let _ = std::os::unix::fs::symlink(truth, dir.join("true"));
    let output = Command::new(RUNTIME_TABLE)
        .args(["--only", "python3"])
        .env("PATH", &dir)
        .output()
        .expect("runtime-table starts");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout.trim(),
        "*Not run here: The row for `python3 app.py` needs `python3`: it is not on $PATH. \
         To run it: apt-get install python3.*"
    );
}

#[test]
fn in_docker_busybox_sh_waits_for_sigkill_and_the_inits_do_not() {
    if skip_without_docker() {
        return;
    }
    let table = table(&["--docker", "--grace", "1"]);
    let alone = row(&table, "IMAGE sh app.sh");
    assert_eq!(
        (alone[1], alone[4], alone[5]),
        ("`sh`", "137", "0"),
        "{alone:?}"
    );
    let init = row(&table, "--init IMAGE sh app.sh");
    assert_eq!(init[1], "`docker-init`", "{init:?}");
    // tini sleeps in sigtimedwait(2) waiting for SIGTERM, which only the
    // system call's argument shows; reading it needs root (or ptrace
    // rights over the engine's processes).
    let root = nix::unistd::geteuid().is_root();
    if root {
        assert_eq!(init[2], "waited for", "{init:?}");
    }
    assert_eq!(init[4], "143", "{init:?}");
    let foster = row(&table, "IMAGE foster -- sh app.sh");
    assert_eq!(
        (foster[1], foster[2], foster[4]),
        ("`foster`", "blocked", "143"),
        "{foster:?}"
    );
}

#[test]
fn exec_probes_leave_zombies_unless_an_init_or_foster_reaps_them() {
    if skip_without_docker() {
        return;
    }
    let table = table(&["--probes", "10"]);
    let zombies: Vec<&str> = table
        .lines()
        .skip(2)
        .map(|line| {
            line.trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .nth(2)
                .unwrap_or("?")
        })
        .collect();
    assert_eq!(zombies, ["10", "0", "0"], "{table}");
    assert!(table.contains("`foster -- sh /probe.sh`"), "{table}");
}

#[test]
fn docker_and_probes_take_no_row_selection() {
    let output = Command::new(RUNTIME_TABLE)
        .args(["--probes", "3", "--only", "sh"])
        .output()
        .expect("runtime-table starts");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--only"), "{stderr}");
}
