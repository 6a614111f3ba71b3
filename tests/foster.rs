//! `foster` with the book's own tools: a crowd of orphans from
//! `orphan-maker --leave`, as PID 1 of a `container`, and foster in the project's
//! Docker image. Everything that needs only foster and the system's tools
//! is in foster's own tests (`listings/foster/tests/`, `cargo test -p
//! foster`).

mod common;

use std::process::{Command, Output};

use std::time::Duration;

use orphans::containers::engine::Engine;
use orphans::namespace::census;
use orphans::process::deadline::poll_until;

use common::skip_without_namespaces;

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
static FOSTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(common::foster_binary);
/// The book's orphan maker (the one call site that names it).
const ORPHAN_MAKER: &str = env!("CARGO_BIN_EXE_orphan-maker");

/// No test may hang: everything runs under `timeout`, which SIGKILLs the
/// outermost process (and `container`'s PID 1 dies with it: pdeathsig).
const LIMIT: &str = "60";

/// `container foster ARGS...`: foster as PID 1, bounded by [`LIMIT`].
fn foster_as_pid1(args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["-s", "KILL", LIMIT, CONTAINER, &*FOSTER])
        .args(args)
        .output()
        .expect("run timeout container foster")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Inside, once orphan-maker has left `count` orphans: wait (5 s at most)
/// until /proc shows no zombie, and say how many there are.
fn orphans_then_count_zombies(count: usize) -> String {
    format!(
        r#"{ORPHAN_MAKER} --leave {count} || exit 1
i=0
while [ $i -lt 100 ]; do
  z=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ')
  [ "$z" = 0 ] && break
  sleep 0.05; i=$((i+1))
done
echo "zombies=$z""#
    )
}

/// The two crowds of 20,000 take turns: PIDs are counted machine-wide
/// (`kernel.pid_max` may be 32,768), and two inits that fall behind on a
/// busy machine could together hold enough zombies to make a fork fail.
static ONE_CROWD_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// foster's usual path, waitpid(-1) with nothing to report, in a crowd.
#[test]
fn twenty_thousand_orphans_leave_no_zombie() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let _turn = ONE_CROWD_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let output = foster_as_pid1(&["sh", "-c", &orphans_then_count_zombies(20_000)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "zombies=0");
}

/// With `-w` foster names each orphan it reaps: all 20,000, by foster.
#[test]
fn twenty_thousand_orphans_are_each_reported_with_dash_w() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let _turn = ONE_CROWD_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let output = foster_as_pid1(&["-w", "sh", "-c", &orphans_then_count_zombies(20_000)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "zombies=0");
    let reaped = text(&output.stderr).matches("reaped zombie").count();
    assert_eq!(reaped, 20_000, "foster should reap every orphan itself");
}

/// `docker run` options that make the image's static foster the
/// entrypoint, with `out` shared as `/out` (the engine adds `--network
/// none`: an engine without a working bridge still runs such a container).
fn foster_entrypoint(out: &std::path::Path) -> Vec<String> {
    let out = format!("{}:/out", out.display());
    ["-v", &out, "--entrypoint", "/bin/foster"]
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn under_docker_a_setsid_grandchild_gets_sigterm_before_the_end() {
    let Some(image) = common::project_image_or_skip() else {
        return;
    };
    let out = std::env::temp_dir().join(format!("foster-docker-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("make a shared directory");
    let script = r#"/bin/busybox setsid /bin/busybox sh -c 'trap "echo TERM > /out/got; exit 0" TERM; echo > /out/ready; while :; do /bin/busybox sleep 0.05; done' &
until [ -e /out/ready ]; do /bin/busybox sleep 0.01; done
exit 3"#;
    let command = ["--", "/bin/busybox", "sh", "-c", script].map(String::from);
    let docker = Engine::docker();
    let container = docker
        .create(&foster_entrypoint(&out), &image, &command)
        .expect("docker create");
    container.start().expect("docker start");
    let status = container.wait();
    let got = std::fs::read_to_string(out.join("got")).unwrap_or_default();
    drop(container);
    let _ = std::fs::remove_dir_all(&out);
    assert_eq!(status.ok(), Some(3));
    assert_eq!(
        got.trim(),
        "TERM",
        "the setsid'd process should get SIGTERM"
    );
}

#[test]
fn under_docker_docker_stop_reaches_the_command_through_foster() {
    let Some(image) = common::project_image_or_skip() else {
        return;
    };
    let out = std::env::temp_dir().join(format!("foster-stop-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("make a shared directory");
    let command = ["--", "/bin/busybox", "sleep", "1000"].map(String::from);
    let docker = Engine::docker();
    let container = docker
        .create(&foster_entrypoint(&out), &image, &command)
        .expect("docker create");
    container.start().expect("docker start");
    // foster has taken over the signals once its command runs: a SIGTERM
    // before that would find PID 1 without a handler, and be dropped.
    let running = poll_until(Duration::from_secs(10), Duration::from_millis(20), || {
        let processes = census::of_container(&container).ok()?;
        census::by_args(&processes, "/bin/busybox sleep 1000").map(drop)
    });
    assert!(running.is_some(), "sleep never started under foster");
    // Without forwarding, `docker stop` would SIGKILL after its timeout
    // and the container would exit 137.
    let stopped = container.stop(20);
    let code = container.exit_code();
    drop(container);
    let _ = std::fs::remove_dir_all(&out);
    assert!(stopped.is_ok(), "{stopped:?}");
    assert_eq!(
        code.ok(),
        Some(143),
        "sleep should die of the forwarded SIGTERM"
    );
}
