//! Chapter 16: the pids controller counts zombies, Docker sets no pids
//! limit by default, and cgroup.kill ends what killing a main process
//! leaves behind.

mod common;

use common::{run, skip_unless, skip_without_docker, skip_without_namespaces};
use orphans::capability::NOT_RUN;

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
const CGROUP_TABLE: &str = env!("CARGO_BIN_EXE_cgroup-table");

/// The table `cgroup-table FLAG` prints, as rows of cells; `None` (after
/// `skipped: …`) when it printed a "not run here" line instead.
fn table(flag: &str) -> Option<Vec<Vec<String>>> {
    let output = run(CGROUP_TABLE, &[flag]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // Root on a machine with cgroups, as CI is, must be able to run it.
    let not_run = text.contains(NOT_RUN).then(|| text.trim().to_string());
    if skip_unless("ORPHANS_REQUIRE_NAMESPACES", not_run) {
        return None;
    }
    Some(
        text.lines()
            .filter(|line| line.starts_with("| ") && !line.starts_with("|---"))
            .skip(1)
            .map(|line| {
                line.trim_matches('|')
                    .split(" | ")
                    .map(|cell| cell.trim().to_string())
                    .collect()
            })
            .collect(),
    )
}

#[test]
fn zombies_fill_pids_max_under_naive_init_and_not_under_foster() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let Some(rows) = table("--pids") else { return };
    let [naive, foster] = &rows[..] else {
        panic!("two rows expected: {rows:?}")
    };
    assert_eq!(naive[0], "`naive-init`");
    assert_eq!(naive[1], "20");
    assert!(naive[3].parse::<u32>().unwrap() > 10, "{naive:?}");
    assert_eq!(naive[5], "`max 1`", "one refused fork: {naive:?}");
    assert_eq!(foster[0], "`foster`");
    assert_eq!((foster[2].as_str(), foster[3].as_str()), ("40", "0"));
    assert!(foster[4].parse::<u32>().unwrap() < 20, "{foster:?}");
    assert_eq!(foster[5], "`max 0`", "no refused fork: {foster:?}");
    let text = String::from_utf8_lossy(&run(CGROUP_TABLE, &["--pids"]).stdout).into_owned();
    assert!(
        text.contains("under `naive-init`, orphan") && text.contains("EAGAIN"),
        "the refused fork, named under the table: {text}"
    );
}

#[test]
fn cgroup_kill_ends_what_killing_the_main_process_leaves() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let Some(rows) = table("--kill") else { return };
    let left: Vec<&str> = rows.iter().map(|row| row[2].as_str()).collect();
    assert_eq!(left, ["0", "3", "0"], "{rows:?}");
    assert!(!rows[2][3].contains("not within"), "{rows:?}");
}

#[test]
fn docker_sets_no_pids_limit_unless_asked() {
    if skip_without_docker() {
        return;
    }
    let Some(rows) = table("--docker") else {
        return;
    };
    // With the systemd cgroup driver, systemd's DefaultTasksMax stands in
    // for "no limit" (chapter 16): a number, the same with `-1`.
    let output = run(CGROUP_TABLE, &["--docker"]);
    let systemd = String::from_utf8_lossy(&output.stdout).contains("`systemd` cgroup driver");
    if systemd {
        assert!(
            rows[0][1].trim_matches('`').parse::<u64>().is_ok(),
            "{rows:?}"
        );
    } else {
        assert_eq!(rows[0][1], "`max`", "{rows:?}");
    }
    assert_eq!(
        rows[1][1], rows[0][1],
        "--pids-limit -1 is the default: {rows:?}"
    );
    assert_eq!(rows[2][1], "`100`", "{rows:?}");
}

#[test]
fn a_table_must_be_named() {
    assert_eq!(run(CGROUP_TABLE, &[]).status.code(), Some(2));
}
