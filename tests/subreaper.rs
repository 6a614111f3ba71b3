//! `subreaper`: a command run below a child subreaper.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{json_of, row, run, skip_without_namespaces};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use orphans::process::deadline::poll_until;
use orphans::process::procfs::{children, comm, descendants, state};

const SUBREAPER: &str = env!("CARGO_BIN_EXE_subreaper");
const PROBE: &str = env!("CARGO_BIN_EXE_probe");
const CONTAINER: &str = env!("CARGO_BIN_EXE_container");

/// Starts the subreaper with `args`, its stdout and stderr piped.
fn spawn(args: &[&str]) -> Child {
    Command::new(SUBREAPER)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start subreaper")
}

/// Waits for `check` to hold, for at most five seconds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let held = poll_until(Duration::from_secs(5), Duration::from_millis(10), || {
        check().then_some(())
    });
    assert!(held.is_some(), "not within 5 s: {what}");
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_orphaned_grandchild_goes_to_the_subreaper() {
    let subreaper = spawn(&[PROBE, "--format", "json"]);
    let pid = subreaper.id();
    let rows = json_of(&subreaper.wait_with_output().expect("wait"));
    let root = row(&rows, "root");
    let grandchild = row(&rows, "grandchild");
    assert_eq!(root["ppid"], pid, "the probe runs as the subreaper's child");
    assert_eq!(grandchild["ppid"], pid, "adopted by the subreaper: {rows}");
    assert_eq!(grandchild["parent_comm"], "subreaper");
    assert_ne!(grandchild["ppid"], 1);
}

#[test]
fn nested_subreapers_the_nearest_one_adopts() {
    let outer = spawn(&[SUBREAPER, PROBE, "--format", "json"]);
    let outer_pid = outer.id();
    let rows = json_of(&outer.wait_with_output().expect("wait"));
    let inner_pid = row(&rows, "root")["ppid"].clone();
    assert_ne!(inner_pid, outer_pid, "the probe's parent is the inner one");
    let grandchild = row(&rows, "grandchild");
    assert_eq!(grandchild["ppid"], inner_pid, "nearest subreaper: {rows}");
    assert_eq!(grandchild["parent_comm"], "subreaper");
}

#[test]
fn the_exit_status_of_the_command_is_forwarded() {
    let status = |args: &[&str]| run(SUBREAPER, args).status.code();
    assert_eq!(status(&["true"]), Some(0));
    assert_eq!(status(&["--", "sh", "-c", "exit 3"]), Some(3));
    assert_eq!(status(&["sh", "-c", "kill -KILL $$"]), Some(128 + 9));
    // An orphan's status is not CMD's: CMD's 4 wins over the orphan's 9.
    assert_eq!(
        status(&["sh", "-c", "(sleep 0.2; exit 9) & exit 4"]),
        Some(4)
    );
}

#[test]
fn orphans_are_adopted_reaped_and_leave_no_zombie() {
    // sh leaves two sleepers behind and exits; three short-lived orphans
    // exit at once and must be reaped too.
    let script = "sleep 30 & sleep 30 & (true &); (true &); (true &); exit 7";
    let mut subreaper = spawn(&["-v", "sh", "-c", script]);
    let me = subreaper.id() as i32;
    let is_sleep = |pid: &i32| comm(*pid).as_deref() == Some("sleep");
    eventually("both sleepers adopted, sh and the others gone", || {
        let below = children(me);
        below.len() == 2 && below.iter().all(is_sleep)
    });
    let sleepers = children(me);
    let zombies: Vec<i32> = descendants(me)
        .into_iter()
        .filter(|&pid| state(pid) == Some('Z'))
        .collect();
    assert!(
        zombies.is_empty(),
        "zombies below the subreaper: {zombies:?}"
    );
    for &pid in &sleepers {
        kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill a sleeper");
    }
    eventually("the subreaper exits", || {
        matches!(subreaper.try_wait(), Ok(Some(_)))
    });
    let output = subreaper.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(7), "CMD's status");
    let log = stderr_of(&output);
    for pid in sleepers {
        // Named as the subreaper found it: `sleep`, or still `sh` if the
        // fork had not yet reached its exec(2).
        assert!(log.contains(&format!("adopted PID {pid} (")), "{log}");
        assert!(
            log.contains(&format!("reaped PID {pid} (sleep): killed by SIGKILL")),
            "{log}"
        );
    }
    let reaps = log.matches("reaped PID").count();
    // sh reaps its own subshells; each `true` they leave is ours.
    assert_eq!(reaps, 1 + 3 + 2, "sh, 3 trues, 2 sleeps:\n{log}");
}

#[test]
fn sigterm_is_forwarded_to_the_command() {
    let mut subreaper = spawn(&["-v", "sleep", "30"]);
    let me = subreaper.id() as i32;
    eventually("sleep has started", || {
        children(me)
            .iter()
            .any(|&pid| comm(pid).as_deref() == Some("sleep"))
    });
    kill(Pid::from_raw(me), Signal::SIGTERM).expect("send SIGTERM");
    eventually("the subreaper exits", || {
        matches!(subreaper.try_wait(), Ok(Some(_)))
    });
    let output = subreaper.wait_with_output().expect("wait");
    assert_eq!(
        output.status.code(),
        Some(128 + 15),
        "{}",
        stderr_of(&output)
    );
    assert!(stderr_of(&output).contains("forwarded SIGTERM to PID"));
}

/// `voluntary_ctxt_switches` of `pid` (proc(5)): how often it went to
/// sleep in the kernel, hence how often it was woken up.
fn voluntary_switches(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a voluntary_ctxt_switches line")
}

#[test]
fn an_idle_subreaper_sleeps_in_read_and_is_never_woken() {
    let mut subreaper = spawn(&["sleep", "30"]);
    let me = subreaper.id() as i32;
    eventually("sleep has started", || {
        children(me)
            .iter()
            .any(|&pid| comm(pid).as_deref() == Some("sleep"))
    });
    eventually("the subreaper is asleep in read(2)", || {
        // /proc/PID/syscall: the number of the system call it is blocked in.
        let call = std::fs::read_to_string(format!("/proc/{me}/syscall")).unwrap_or_default();
        call.split_whitespace().next() == Some(&libc::SYS_read.to_string())
    });
    let before = voluntary_switches(me);
    std::thread::sleep(Duration::from_millis(300));
    let after = voluntary_switches(me);
    kill(Pid::from_raw(me), Signal::SIGTERM).expect("send SIGTERM");
    let status = subreaper.wait().expect("wait");
    assert_eq!(before, after, "an idle subreaper woke up: it polls");
    assert_eq!(status.code(), Some(128 + 15));
}

#[test]
fn a_detached_container_pid_1_is_adopted_by_the_subreaper() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("orphans-subreaper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("make a mount point");
    let dir = dir.to_str().expect("UTF-8");
    let output = run(
        SUBREAPER,
        &[
            "-v",
            CONTAINER,
            "--detach",
            "--host-proc",
            dir,
            PROBE,
            "--host-proc",
            dir,
            "--format",
            "json",
        ],
    );
    let _ = std::fs::remove_dir(dir);
    let rows = json_of(&output);
    let root = row(&rows, "root");
    assert_eq!(root["pid"], 1, "the probe is the container's PID 1");
    let host = root["host_pid"].as_i64().expect("a host PID");
    let log = stderr_of(&output);
    assert!(log.contains(&format!("adopted PID {host} ")), "{log}");
    assert!(
        log.contains(&format!("reaped PID {host} (probe): exited 0")),
        "{log}"
    );
    assert!(log.contains("(container): exited 0"), "{log}");
}

#[test]
fn bad_input_gives_a_clear_error() {
    for args in [&[][..], &["--bogus", "true"], &["-x"]] {
        let output = run(SUBREAPER, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.starts_with("subreaper: "), "{stderr}");
        assert!(stderr.contains("usage: subreaper"), "{stderr}");
    }
    let missing = run(SUBREAPER, &["/no/such/program"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(stderr_of(&missing).contains("/no/such/program"));
    let file = std::env::temp_dir().join(format!("orphans-plain-{}", std::process::id()));
    std::fs::write(&file, "not a program\n").expect("write a plain file");
    let not_executable = run(SUBREAPER, &[file.to_str().expect("UTF-8")]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(not_executable.status.code(), Some(126));
    let help = run(SUBREAPER, &["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("PR_SET_CHILD_SUBREAPER"));
}
