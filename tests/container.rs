//! `container`: a command as PID 1 of a new PID namespace.

mod common;

use common::{json_of, row, run, skip_without_namespaces};

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
const PROBE: &str = env!("CARGO_BIN_EXE_probe");

#[test]
fn inside_the_root_is_pid_1_and_adopts_the_orphan() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let rows = json_of(&run(CONTAINER, &[PROBE, "--format", "json"]));
    let root = row(&rows, "root");
    assert_eq!(root["pid"], 1, "{rows}");
    assert_eq!(root["ppid"], 0, "PID 1's parent is outside the namespace");
    assert_eq!(root["parent_comm"], serde_json::Value::Null);
    assert_eq!(row(&rows, "child")["ppid"], 1);
    assert_eq!(row(&rows, "grandchild")["ppid"], 1, "orphans go to PID 1");
    assert_eq!(row(&rows, "grandchild")["parent_comm"], "probe");
}

#[test]
fn through_the_host_proc_the_host_pids_show() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("orphans-host-proc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("make a mount point");
    let dir_arg = dir.to_str().expect("temp dir is UTF-8");
    let output = run(
        CONTAINER,
        &[
            "--host-proc",
            dir_arg,
            PROBE,
            "--host-proc",
            dir_arg,
            "--format",
            "json",
        ],
    );
    let _ = std::fs::remove_dir(&dir);
    let rows = json_of(&output);
    for role in ["root", "child", "grandchild"] {
        let row = row(&rows, role);
        let host = row["host_pid"].as_i64().expect("a host PID");
        assert!(
            host > 1,
            "{role}: host PID {host} should differ from the inner one"
        );
        assert_ne!(row["host_pid"], row["pid"], "{role}");
    }
}

#[test]
fn without_the_host_proc_the_host_pids_are_unknown() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    // The namespace's own /proc numbers only its own processes: the probe
    // must not report its inner PIDs (1, 2, 3) as the host's.
    let rows = json_of(&run(CONTAINER, &[PROBE, "--format", "json"]));
    for role in ["root", "child", "grandchild"] {
        assert_eq!(
            row(&rows, role)["host_pid"],
            serde_json::Value::Null,
            "{rows}"
        );
    }
    let output = run(CONTAINER, &[PROBE, "--explain"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("| Root | 1 | 0 | - | ? | - |"), "{text}");
    assert!(text.contains("--host-proc"), "{text}");
}

#[test]
fn the_exit_status_of_the_command_is_forwarded() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let status = |args: &[&str]| run(CONTAINER, args).status.code();
    assert_eq!(status(&["true"]), Some(0));
    assert_eq!(status(&["sh", "-c", "exit 3"]), Some(3));
}

#[test]
fn death_by_signal_is_reported_as_128_plus_n() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let mut container = std::process::Command::new(CONTAINER)
        .args(["sleep", "30"])
        .spawn()
        .expect("start container");
    // PID 1 of a namespace ignores signals it has no handler for, except
    // SIGKILL and SIGSTOP sent from an ancestor namespace: send SIGKILL to
    // its PID 1 from here, the host side.
    let pid1 = common::wait_for_child_of(container.id() as i32);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid1),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill PID 1");
    let status = container.wait().expect("wait for container");
    assert_eq!(status.code(), Some(128 + 9));
}

#[test]
fn bad_input_gives_a_clear_error() {
    let no_command = run(CONTAINER, &[]);
    assert_eq!(no_command.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_command.stderr).contains("no command given"));
    let bad_flag = run(CONTAINER, &["--bogus", "true"]);
    assert_eq!(bad_flag.status.code(), Some(2));
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let missing = run(CONTAINER, &["/no/such/program"]);
    assert_eq!(missing.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("/no/such/program"), "{stderr}");
    let file = std::env::temp_dir().join(format!("orphans-not-executable-{}", std::process::id()));
    std::fs::write(&file, "not a program\n").expect("write a plain file");
    let not_executable = run(CONTAINER, &[file.to_str().expect("UTF-8")]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(not_executable.status.code(), Some(126));
}

#[test]
fn when_pid_1_exits_the_rest_of_the_namespace_is_killed() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    // PID 1 is a shell that starts a long sleep, then waits for a line.
    let mut container = std::process::Command::new(CONTAINER)
        .args(["sh", "-c", "sleep 60 & read line"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("start container");
    let pid1 = common::wait_for_child_of(container.id() as i32);
    let sleep = common::wait_for_child_of(pid1);
    let started = std::time::Instant::now();
    // Closing the shell's stdin ends `read`, and with it PID 1.
    drop(container.stdin.take());
    let status = container.wait().expect("wait for container");
    assert_eq!(status.code(), Some(1), "read at end of file fails");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "container waited for the sleep instead of it being killed"
    );
    // zap_pid_ns_processes: killed and reaped before PID 1's exit completes.
    assert!(
        !std::path::Path::new(&format!("/proc/{sleep}")).exists(),
        "the sleep (host PID {sleep}) outlived its namespace's PID 1"
    );
}
