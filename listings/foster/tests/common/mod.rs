//! What foster's tests share: running foster as PID 1 of a new PID
//! namespace (util-linux's `unshare`) or as an ordinary process, always
//! under `timeout`, and skipping (or, in CI, failing) where the machine
//! cannot make a PID namespace.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

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

/// `foster ARGS...` as `place` says, bounded by [`LIMIT`].
pub fn foster(place: As, args: &[&str]) -> Command {
    let mut command = Command::new("timeout");
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
    Command::new("sh")
        .args(["-c", line])
        .output()
        .expect("run sh")
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
    if std::env::var("ORPHANS_REQUIRE_NAMESPACES").as_deref() == Ok("1") {
        panic!("ORPHANS_REQUIRE_NAMESPACES=1 but this test cannot run: {reason}");
    }
    println!("skipped: {reason}");
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
        // The command runs, so every program above it has exec'd: foster
        // is below `timeout` and `unshare`, if they are there.
        let mut foster = child.id();
        while matches!(comm(foster).as_str(), "timeout" | "unshare") {
            foster = first_child_of(foster);
        }
        Session {
            child,
            lines,
            foster: foster as i32,
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
