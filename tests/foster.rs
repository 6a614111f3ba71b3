//! `foster`, the book's init: as PID 1 of a PID namespace (through
//! `container`) and as a child subreaper anywhere else.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{run, skip_without_namespaces, wait_for_child_of};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const CONTAINER: &str = env!("CARGO_BIN_EXE_container");
static FOSTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(common::foster_binary);
const ORPHAN_MAKER: &str = env!("CARGO_BIN_EXE_orphan-maker");

/// No test may hang: everything runs under `timeout`, which SIGKILLs the
/// outermost process (and `container`'s PID 1 dies with it: pdeathsig).
const LIMIT: &str = "60";

/// `container foster ARGS...` (PID 1) or `foster ARGS...` (not PID 1),
/// bounded by [`LIMIT`].
fn foster_command(as_pid1: bool, args: &[&str]) -> Command {
    let mut command = Command::new("timeout");
    command.args(["-s", "KILL", LIMIT]);
    if as_pid1 {
        command.arg(CONTAINER);
    }
    command.arg(&*FOSTER).args(args);
    command
}

fn foster_as_pid1(args: &[&str]) -> Output {
    foster_command(true, args)
        .output()
        .expect("run timeout container foster")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running foster whose command talks to the test line by line.
struct Session {
    child: Child,
    lines: BufReader<ChildStdout>,
    /// foster's PID as this test sees it (the host's).
    foster: Pid,
}

impl Session {
    /// Starts foster as PID 1 with `args` and waits for the command to
    /// print `ready`.
    fn start(args: &[&str]) -> Session {
        Session::start_with(args, &[])
    }

    /// Like [`Session::start`], with environment variables for foster.
    fn start_with(args: &[&str], vars: &[(&str, &str)]) -> Session {
        let mut child = foster_command(true, args)
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start foster");
        let stdout = child.stdout.take().expect("piped stdout");
        // timeout → container → foster (PID 1 inside)
        let container = wait_for_child_of(child.id() as i32);
        let foster = Pid::from_raw(wait_for_child_of(container));
        let mut session = Session {
            child,
            lines: BufReader::new(stdout),
            foster,
        };
        assert_eq!(session.line(), "ready");
        session
    }

    /// The next line the command printed ("" once it is gone).
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.lines
            .read_line(&mut line)
            .expect("read the command's output");
        line.trim_end().to_string()
    }

    fn signal(&self, signal: Signal) {
        kill(self.foster, signal).expect("signal foster");
    }

    /// Sends signal `number` (a real-time one, say, which nix's `Signal`
    /// cannot name) with the shell's kill.
    fn signal_number(&self, number: i32) {
        let sent = run("sh", &["-c", &format!("kill -{number} {}", self.foster)]);
        assert!(
            sent.status.success(),
            "kill -{number}: {}",
            text(&sent.stderr)
        );
    }

    fn finish(mut self) -> Option<i32> {
        self.child.wait().expect("wait for foster").code()
    }
}

#[test]
fn the_exit_status_is_the_commands() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let status = |script: &str| foster_as_pid1(&["sh", "-c", script]).status.code();
    assert_eq!(status("exit 0"), Some(0));
    assert_eq!(status("exit 3"), Some(3));
    assert_eq!(status("exit 255"), Some(255));
    assert_eq!(status("kill -KILL $$"), Some(128 + 9));
    assert_eq!(status("kill -TERM $$"), Some(128 + 15));
    assert_eq!(status("ulimit -c 0; kill -SEGV $$"), Some(128 + 11));
}

#[test]
fn dash_e_maps_listed_statuses_to_zero() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let status = |args: &[&str]| foster_as_pid1(args).status.code();
    assert_eq!(status(&["-e", "3", "sh", "-c", "exit 3"]), Some(0));
    assert_eq!(
        status(&["-e", "3", "-e", "143", "sh", "-c", "kill $$"]),
        Some(0)
    );
    assert_eq!(status(&["-e", "3", "sh", "-c", "exit 4"]), Some(4));
}

#[test]
fn a_command_that_cannot_run_gives_127_or_126() {
    let missing = run(&FOSTER, &["/no/such/program"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(
        text(&missing.stderr).contains("'/no/such/program'"),
        "{}",
        text(&missing.stderr)
    );
    let file = std::env::temp_dir().join(format!("foster-not-executable-{}", std::process::id()));
    std::fs::write(&file, "not a program\n").expect("write a plain file");
    let not_executable = run(&FOSTER, &[file.to_str().expect("UTF-8")]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(not_executable.status.code(), Some(126));
    assert!(text(&not_executable.stderr).contains("Permission denied"));
}

#[test]
fn bad_flags_give_a_message_the_usage_and_2() {
    for args in [
        &["--bogus", "true"][..],
        &[],
        &["-e", "300", "true"],
        &["-r", "TERM", "true"],
        &["--grace", "soon", "true"],
    ] {
        let output = run(&FOSTER, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains("usage: foster"), "{args:?}");
    }
    let help = run(&FOSTER, &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("--grace"));
}

/// A shell that prints the name of each signal it gets; TERM also ends it.
const RECORDER: &str = r#"
for s in HUP INT QUIT USR1 USR2 WINCH CONT; do trap "echo $s" $s; done
trap 'echo RT40' 40
trap 'echo TERM; exit 0' TERM
echo ready
while :; do sleep 0.05; done
"#;

#[test]
fn signals_are_forwarded_to_the_command() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let mut session = Session::start(&["sh", "-c", RECORDER]);
    use Signal::*;
    for signal in [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT] {
        session.signal(signal);
        let name = signal.as_str().trim_start_matches("SIG");
        assert_eq!(session.line(), name, "the command did not get {signal}");
    }
    // A real-time signal (SIGRTMIN+6 with glibc).
    session.signal_number(40);
    assert_eq!(session.line(), "RT40");
    session.signal(SIGTERM);
    assert_eq!(session.line(), "TERM");
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn dash_r_rewrites_or_drops_signals() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let mut session = Session::start(&["-r", "USR1:USR2", "-r", "HUP:0", "sh", "-c", RECORDER]);
    session.signal(Signal::SIGHUP);
    session.signal(Signal::SIGUSR1);
    // A forwarded HUP would come first: foster reads, and the shell runs
    // its traps, in signal-number order.
    assert_eq!(session.line(), "USR2");
    session.signal(Signal::SIGTERM);
    assert_eq!(session.line(), "TERM");
    assert_eq!(session.finish(), Some(0));
}

/// The outer shell waits for the inner one, which only ends if USR1
/// reaches it too.
const GROUP_SCRIPT: &str = r#"
trap 'echo outer USR1' USR1
sh -c 'trap "echo inner USR1; exit 0" USR1; echo ready; while :; do sleep 0.05; done'
"#;

#[test]
fn dash_g_reaches_a_grandchild_in_the_group() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let mut session = Session::start(&["-g", "sh", "-c", GROUP_SCRIPT]);
    session.signal(Signal::SIGUSR1);
    assert_eq!(session.line(), "inner USR1");
    assert_eq!(session.line(), "outer USR1");
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn tini_kill_process_group_means_dash_g() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let vars = [("TINI_KILL_PROCESS_GROUP", "1")];
    let mut session = Session::start_with(&["sh", "-c", GROUP_SCRIPT], &vars);
    session.signal(Signal::SIGUSR1);
    assert_eq!(session.line(), "inner USR1");
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn without_dash_g_only_the_command_gets_the_signal() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let mut session = Session::start(&["sh", "-c", GROUP_SCRIPT]);
    session.signal(Signal::SIGUSR1);
    // SIGTERM kills the outer shell (it has no trap for it); foster's grace
    // shutdown then stops the inner one. Neither prints "inner USR1".
    session.signal(Signal::SIGTERM);
    let rest: Vec<String> =
        std::iter::from_fn(|| Some(session.line()).filter(|l| !l.is_empty())).collect();
    assert!(!rest.contains(&"inner USR1".to_string()), "{rest:?}");
    let _ = session.finish();
}

#[test]
fn twenty_thousand_orphans_are_reaped_and_no_zombie_is_left() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    // Inside, once orphan-maker is done: wait (5 s at most) until /proc
    // shows no zombie, and say how many there are.
    let script = format!(
        r#"{ORPHAN_MAKER} --leave 20000 || exit 1
i=0
while [ $i -lt 100 ]; do
  z=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ')
  [ "$z" = 0 ] && break
  sleep 0.05; i=$((i+1))
done
echo "zombies=$z""#
    );
    let output = foster_as_pid1(&["-w", "sh", "-c", &script]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "zombies=0");
    let reaped = text(&output.stderr).matches("reaped zombie").count();
    assert_eq!(reaped, 20_000, "foster should reap every orphan itself");
}

#[test]
fn not_pid_1_foster_becomes_a_subreaper_and_adopts() {
    // No namespace needed: foster runs here, as an ordinary process.
    let script = r#"p=$(sh -c 'sleep 30 >/dev/null 2>&1 & echo $!')
set -- $(cat /proc/$p/stat)
echo "$p $4 $PPID""#;
    let started = Instant::now();
    let output = foster_command(false, &["-v", "sh", "-c", script])
        .output()
        .expect("run foster");
    let stdout = text(&output.stdout);
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    let [orphan, its_parent, foster] = fields[..] else {
        panic!("unexpected output: {stdout}")
    };
    assert_eq!(its_parent, foster, "the orphan's parent should be foster");
    assert!(
        text(&output.stderr).contains("child subreaper"),
        "{}",
        text(&output.stderr)
    );
    // The orphan (sleep 30) got SIGTERM when the command exited, and was
    // reaped: it is gone, long before its 30 s.
    assert_eq!(output.status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(25));
    assert_eq!(foster::procfs::state(orphan.parse().expect("a PID")), None);
}

/// Three processes outlive the command: one in a new session (setsid), one
/// that needs time to clean up after SIGTERM, one that ignores SIGTERM.
/// Each writes a marker file when its trap is set; the command waits for
/// the three, then exits 7.
fn leftovers_script(dir: &str) -> String {
    format!(
        r#"
setsid sh -c 'trap "echo session got TERM; exit 0" TERM; touch {dir}/a; while :; do sleep 0.05; done' &
sh -c 'trap "echo slow got TERM; sleep 0.3; echo slow done; exit 0" TERM; touch {dir}/b; while :; do sleep 0.05; done' &
sh -c 'trap "" TERM; touch {dir}/c; while :; do sleep 0.05; done' &
until [ -e {dir}/a ] && [ -e {dir}/b ] && [ -e {dir}/c ]; do sleep 0.01; done
exit 7
"#
    )
}

fn check_grace_shutdown(as_pid1: bool) {
    let dir = std::env::temp_dir().join(format!("foster-grace-{}-{as_pid1}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("make a directory");
    let script = leftovers_script(dir.to_str().expect("UTF-8"));
    let started = Instant::now();
    let output = foster_command(as_pid1, &["-v", "--grace", "1s", "sh", "-c", &script])
        .output()
        .expect("run foster");
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    assert!(stdout.contains("session got TERM"), "{stdout}");
    assert!(
        stdout.contains("slow got TERM") && stdout.contains("slow done"),
        "{stdout}"
    );
    // The one that ignores SIGTERM kept foster waiting for the whole grace
    // time, then got SIGKILL.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    let term = stderr.find("sent SIGTERM").expect("foster reports SIGTERM");
    let kill = stderr.find("sent SIGKILL").expect("foster reports SIGKILL");
    assert!(term < kill, "{stderr}");
}

#[test]
fn grace_shutdown_as_pid_1() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    check_grace_shutdown(true);
}

#[test]
fn grace_shutdown_as_a_subreaper() {
    check_grace_shutdown(false);
}

#[test]
fn grace_zero_exits_at_once_like_tini() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let output = foster_as_pid1(&["-v", "--grace", "0", "sh", "-c", "sleep 30 & exit 5"]);
    assert_eq!(output.status.code(), Some(5));
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("SIGTERM"), "{stderr}");
}

#[test]
fn on_a_terminal_the_command_is_in_the_foreground_and_gets_ctrl_c() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    if Command::new("script").arg("--version").output().is_err() {
        println!("skipped: no `script` command (util-linux) to make a terminal");
        return;
    }
    // script(1) runs the command on a new pseudo-terminal and copies our
    // input to it: a ^C byte there is the terminal's interrupt character.
    let inner = r#"set -- $(cat /proc/$$/stat)
echo "pid=$$ pgrp=$5 foreground=$8"
trap "echo got INT; exit 0" INT
echo ready
while :; do sleep 0.05; done"#;
    let line = format!("{CONTAINER} {} -- sh -c '{inner}'", *FOSTER);
    let mut script = Command::new("timeout")
        .args(["-s", "KILL", LIMIT, "script", "-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start script");
    let mut lines = BufReader::new(script.stdout.take().expect("piped"));
    let mut seen = String::new();
    while !seen.contains("ready") {
        let mut line = String::new();
        if lines.read_line(&mut line).expect("read") == 0 {
            panic!("the command ended early: {seen}");
        }
        seen.push_str(&line);
    }
    let ids: Vec<&str> = seen
        .split_whitespace()
        .filter_map(|word| word.split_once('=').map(|(_, value)| value))
        .collect();
    assert_eq!(ids.len(), 3, "{seen}");
    assert_eq!(
        ids[0], ids[1],
        "the command leads its own process group: {seen}"
    );
    assert_eq!(
        ids[1], ids[2],
        "its group is the terminal's foreground: {seen}"
    );
    let mut stdin = script.stdin.take().expect("piped");
    stdin.write_all(b"\x03").expect("type ^C");
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut lines, &mut rest);
    drop(stdin);
    assert!(rest.contains("got INT"), "{rest}");
    let _ = script.wait();
}

/// How many times process `pid` has gone to sleep and been woken up
/// (`voluntary_ctxt_switches` in `/proc/PID/status`, proc(5)).
fn wake_ups(pid: Pid) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("a voluntary_ctxt_switches line")
}

#[test]
fn an_idle_foster_never_wakes_up() {
    if skip_without_namespaces(CONTAINER) {
        return;
    }
    let session = Session::start(&["sh", "-c", "echo ready; exec sleep 3"]);
    std::thread::sleep(Duration::from_millis(200));
    let before = wake_ups(session.foster);
    // tini would wake up once here: it polls with a one-second timeout.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        wake_ups(session.foster),
        before,
        "foster woke up while idle"
    );
    session.signal(Signal::SIGTERM);
    assert_eq!(session.finish(), Some(143));
}

/// The book's image (`orphans:VERSION`: the static builds of the book's
/// programs, foster among them, and busybox, `FROM scratch`), built if
/// needed; `None` (after printing `skipped: …`) without a Docker engine.
fn project_image() -> Option<String> {
    if common::skip_without_docker() {
        return None;
    }
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let image = orphans::image::ensure_image(project).expect("build the orphans image");
    Some(image.reference)
}

/// `docker run` arguments that make the image's static foster the
/// entrypoint, with `out` shared as `/out`, and no network (an engine
/// without a working bridge still runs such a container).
fn foster_entrypoint(out: &std::path::Path) -> Vec<String> {
    let out = format!("{}:/out", out.display());
    [
        "--network",
        "none",
        "-v",
        &out,
        "--entrypoint",
        "/bin/foster",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

#[test]
fn under_docker_a_setsid_grandchild_gets_sigterm_before_the_end() {
    let Some(image) = project_image() else { return };
    let out = std::env::temp_dir().join(format!("foster-docker-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("make a shared directory");
    let script = r#"/bin/busybox setsid /bin/busybox sh -c 'trap "echo TERM > /out/got; exit 0" TERM; echo > /out/ready; while :; do /bin/busybox sleep 0.05; done' &
until [ -e /out/ready ]; do /bin/busybox sleep 0.01; done
exit 3"#;
    let mut args: Vec<String> = vec!["run".into(), "--rm".into()];
    args.extend(foster_entrypoint(&out));
    args.push(image);
    args.extend(["--", "/bin/busybox", "sh", "-c", script].map(String::from));
    let output = Command::new("timeout")
        .args(["-s", "KILL", LIMIT, "docker"])
        .args(&args)
        .output()
        .expect("run docker");
    let got = std::fs::read_to_string(out.join("got")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&out);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert_eq!(
        got.trim(),
        "TERM",
        "the setsid'd process should get SIGTERM"
    );
}

#[test]
fn under_docker_docker_stop_reaches_the_command_through_foster() {
    let Some(image) = project_image() else { return };
    let out = std::env::temp_dir().join(format!("foster-stop-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("make a shared directory");
    let name = format!("foster-stop-{}", std::process::id());
    let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--name".into(), name.clone()];
    args.extend(foster_entrypoint(&out));
    args.push(image);
    args.extend(["--", "/bin/busybox", "sleep", "1000"].map(String::from));
    let started = run(
        "docker",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(started.status.success(), "{}", text(&started.stderr));
    // Without forwarding, `docker stop` would SIGKILL after its timeout
    // and the container would exit 137.
    let stop = run("docker", &["stop", "-t", "20", &name]);
    let code = run(
        "docker",
        &["inspect", "--format", "{{.State.ExitCode}}", &name],
    );
    let _ = run("docker", &["rm", "-f", &name]);
    let _ = std::fs::remove_dir_all(&out);
    assert!(stop.status.success(), "{}", text(&stop.stderr));
    assert_eq!(
        text(&code.stdout).trim(),
        "143",
        "sleep should die of the forwarded SIGTERM"
    );
}

/// Starts foster with `args` in the background of a shell that exits soon
/// after (once foster has had time to set itself up: prctl(2) only arms
/// the signal for a parent that dies later), and returns foster's PID.
fn foster_whose_parent_exits(args: &str) -> i32 {
    let line = format!("{} {args} >/dev/null 2>&1 & echo $!; sleep 0.5", *FOSTER);
    let output = run("sh", &["-c", &line]);
    text(&output.stdout).trim().parse().expect("foster's PID")
}

/// Whether `pid` is still a live process (not gone, not a zombie), after
/// giving it up to two seconds to die.
fn still_alive_after_a_while(pid: i32) -> bool {
    for _ in 0..200 {
        match foster::procfs::state(pid) {
            None | Some('Z') => return false,
            Some(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    true
}

#[test]
fn dash_p_gives_foster_a_signal_when_its_parent_dies() {
    // `sleep 3`: whatever happens to foster, its command ends on its own.
    let with_p = foster_whose_parent_exits("-p SIGKILL --grace 0 sleep 3");
    assert!(
        !still_alive_after_a_while(with_p),
        "foster outlived its parent despite -p"
    );
    let without = foster_whose_parent_exits("--grace 0 sleep 3");
    let alive = still_alive_after_a_while(without);
    let _ = kill(Pid::from_raw(without), Signal::SIGKILL);
    assert!(alive, "without -p, foster should outlive its parent");
}

#[test]
fn a_parent_that_ignores_sigchld_does_not_blind_foster() {
    use std::os::unix::process::CommandExt;
    // An ignored SIGCHLD survives exec; with it the kernel would reap the
    // command itself and foster would wait for it forever.
    let mut command = Command::new(&*FOSTER);
    command.args(["sh", "-c", "exit 3"]);
    // SAFETY: between fork and exec, only sigaction(2), which is
    // async-signal-safe; SIG_IGN installs no handler.
    unsafe {
        command.pre_exec(|| {
            nix::sys::signal::signal(Signal::SIGCHLD, nix::sys::signal::SigHandler::SigIgn)?;
            Ok(())
        });
    }
    let mut foster = command.spawn().expect("start foster");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = foster.try_wait().expect("wait for foster") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = foster.kill();
            let _ = foster.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = status.expect("foster never saw its command exit");
    assert_eq!(status.code(), Some(3));
}
