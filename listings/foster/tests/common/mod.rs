//! What foster's tests share: running foster as PID 1 of a new PID
//! namespace (util-linux's `unshare`) or as an ordinary process, always
//! under `timeout`, from a clean state whatever the test itself was started
//! with, and skipping (or, in CI, failing) where the machine lacks
//! something.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

/// Checks `done` every 5 ms until it holds (true) or `within` is over
/// (false): the tests' one way to wait for something to happen.
pub fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The foster under test: this build's, or the binary that the variable
/// `FOSTER_UNDER_TEST` names (an older build, to see a test fail on it).
pub static FOSTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::var("FOSTER_UNDER_TEST").unwrap_or_else(|_| env!("CARGO_BIN_EXE_foster").into())
});

/// No test may hang: everything runs under `timeout`, which SIGKILLs the
/// outermost process, and `unshare --kill-child` takes foster with it.
pub const LIMIT: &str = "60";

/// Where foster runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum As {
    /// PID 1 of a new PID namespace with its own `/proc`.
    Pid1,
    /// An ordinary process (a child subreaper).
    Process,
}

/// The places where this machine can run foster, PID 1 first: both, or,
/// after [`skip`] has said why, only as an ordinary process.
pub fn places() -> impl Iterator<Item = As> {
    [As::Pid1, As::Process]
        .into_iter()
        .filter(|&place| !skip(place))
}

/// `program`, to be started as if from a fresh login, whatever this test
/// was started with: every signal at its default action and none blocked
/// (under `nohup`, or as a script's background job, SIGHUP or SIGINT and
/// SIGQUIT arrive ignored, and an ignored signal survives exec), no
/// `FOSTER_*` or `TINI_*` variable (they change foster's defaults), and
/// stdin from /dev/null (on a terminal, foster would hand the test's
/// terminal to its command). A test changes any of these after this.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("FOSTER_") || name.starts_with("TINI_") {
            command.env_remove(&*name);
        }
    }
    command.stdin(Stdio::null());
    // SAFETY: between fork and exec, only sigaction(2) and sigprocmask(2),
    // which are async-signal-safe; SIG_DFL installs no handler. Signals the
    // kernel will not change (SIGKILL, SIGSTOP) or the C library refuses
    // (its own) fail harmlessly.
    unsafe {
        command.pre_exec(|| {
            for number in 1..=libc::SIGRTMAX() {
                libc::signal(number, libc::SIG_DFL);
            }
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            Ok(())
        });
    }
    command
}

/// `foster ARGS...` as `place` says, bounded by [`LIMIT`].
pub fn foster(place: As, args: &[&str]) -> Command {
    let mut command = self::command("timeout");
    command.args(["-s", "KILL", LIMIT]);
    command.args(unbounded(place, args));
    command
}

/// `foster ARGS...` with no `timeout` above it (which changes some signal
/// dispositions), for a command that ends by itself: the program and its
/// arguments.
pub fn unbounded(place: As, args: &[&str]) -> Vec<String> {
    let mut line: Vec<String> = Vec::new();
    if place == As::Pid1 {
        line.extend(["unshare", "--kill-child", "--pid", "--mount-proc"].map(String::from));
    }
    line.push(FOSTER.to_string());
    line.extend(args.iter().map(|arg| arg.to_string()));
    line
}

/// Runs foster to the end and returns what it printed and its status.
pub fn run(place: As, args: &[&str]) -> Output {
    foster(place, args).output().expect("run foster")
}

/// `foster sh -c SCRIPT`'s exit status.
pub fn status_of(place: As, script: &str) -> Option<i32> {
    run(place, &["sh", "-c", script]).status.code()
}

/// `sh -c LINE`, to the end.
pub fn shell(line: &str) -> Output {
    command("sh").args(["-c", line]).output().expect("run sh")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// True (after printing `skipped: …`) when this machine cannot give foster
/// a PID namespace; with `ORPHANS_REQUIRE_NAMESPACES=1` (CI) it fails
/// instead. Ordinary-process runs need no check.
pub fn skip(place: As) -> bool {
    if place == As::Process {
        return false;
    }
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output();
    let reason = match probe {
        Ok(output) if output.status.success() => return false,
        Ok(output) => format!("no PID namespaces here ({})", text(&output.stderr).trim()),
        Err(error) => format!("no `unshare` (util-linux): {error}"),
    };
    skip_unless("ORPHANS_REQUIRE_NAMESPACES", Some(reason))
}

/// Decides what a test does when `missing` says what this machine lacks:
/// `None` means go on. Otherwise the test should return early, after this
/// printed `skipped: <reason>`, unless the variable `require` is `1` (CI
/// sets it where the machine must have it): then the test fails here.
/// The line goes straight to the stderr descriptor, past libtest, which
/// hides what passing tests print: a plain `cargo test` shows it.
pub fn skip_unless(require: &str, missing: Option<String>) -> bool {
    let Some(reason) = missing else {
        return false;
    };
    if std::env::var(require).as_deref() == Ok("1") {
        panic!("{require}=1 but this test cannot run: {reason}");
    }
    let line = format!("skipped: {reason} ({require}=1 makes this a failure)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    true
}

/// The command name of process `pid` ("" if it is gone).
pub fn comm(pid: u32) -> String {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    name.trim_end().to_string()
}

/// The PID of the first child of `parent`, waiting up to five seconds for
/// it to appear.
pub fn first_child_of(parent: u32) -> u32 {
    for _ in 0..500 {
        let first = foster::procfs::children(parent as i32).first().copied();
        if let Some(pid) = first.and_then(|pid| u32::try_from(pid).ok()) {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {parent} started no child within 5 s");
}

/// foster's PID, given the PID of the program the test started (`timeout`,
/// `unshare` or foster itself). Call it once the command runs: every
/// program above it has exec'd by then.
pub fn foster_below(started: u32) -> i32 {
    let mut foster = started;
    while matches!(comm(foster).as_str(), "timeout" | "unshare") {
        foster = first_child_of(foster);
    }
    foster as i32
}

/// A running foster whose command talks to the test line by line.
pub struct Session {
    child: Child,
    lines: BufReader<ChildStdout>,
    /// foster's PID as this test sees it.
    pub foster: i32,
    /// What the command printed before `ready`.
    pub before_ready: Vec<String>,
}

impl Session {
    /// Starts foster (`place`) with `command` and waits for the command to
    /// print `ready`.
    pub fn start(place: As, args: &[&str]) -> Session {
        Session::start_with(foster(place, args))
    }

    /// Like [`Session::start`], from a prepared command line.
    pub fn start_with(mut command: Command) -> Session {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("start foster");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout);
        let mut before_ready = Vec::new();
        loop {
            let mut line = String::new();
            lines
                .read_line(&mut line)
                .expect("read the command's output");
            match line.trim_end() {
                "ready" => break,
                "" => panic!("the command ended before it was ready"),
                other => before_ready.push(other.to_string()),
            }
        }
        let foster = foster_below(child.id());
        Session {
            child,
            lines,
            foster,
            before_ready,
        }
    }

    /// The next line the command printed ("" once it is gone).
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.lines
            .read_line(&mut line)
            .expect("read the command's output");
        line.trim_end().to_string()
    }

    /// Writes `line` to the command's stdin (started with a piped stdin).
    pub fn write_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("a piped stdin");
        writeln!(stdin, "{line}").expect("write to the command");
    }

    /// Sends signal `number` to foster with kill(2).
    pub fn signal(&self, number: i32) {
        // SAFETY: kill(2) takes two integers and touches no memory.
        let sent = unsafe { libc::kill(self.foster, number) };
        assert_eq!(sent, 0, "kill({}, {number})", self.foster);
    }

    /// Like [`Session::signal`], but foster may have exited already.
    pub fn signal_if_alive(&self, number: i32) {
        // SAFETY: kill(2) takes two integers and touches no memory.
        unsafe { libc::kill(self.foster, number) };
    }

    /// Whether foster (and timeout) have ended, without waiting.
    pub fn has_finished(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_some()
    }

    /// Waits for foster (and timeout) to end; its exit code.
    pub fn finish(self) -> Option<i32> {
        self.finish_status().code()
    }

    /// Waits for foster (and timeout) to end; how it ended.
    pub fn finish_status(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for foster")
    }
}
