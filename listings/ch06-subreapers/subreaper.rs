//! `subreaper`: run a command, adopt every orphan below it, and reap them
//! all, the job init does for the whole system, done for one subtree.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{ErrorKind, Write};
use std::os::unix::process::CommandExt;
use std::process::Command;

use foster::status::{peek_ended, reap, Reaped, Wait};
use nix::errno::Errno;
use nix::sys::prctl;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::{getpid, Pid};
use orphans::cli::{self, fail, Request};
use orphans::process::procfs::{children, comm};

const USAGE: &str = "\
usage: subreaper [-v] [--] CMD [ARGS...]

Marks itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), runs CMD,
and reaps CMD and every orphan that the kernel hands to it from below CMD.
Exits when all of them are gone, with CMD's status (128+N if signal N
killed it). SIGTERM, SIGINT and SIGHUP are passed on to CMD, or, once CMD
has gone, to the orphans it left behind.

  -v, --verbose   report on stderr each adoption noticed and each reap
  -V, --version   show the version
  -h, --help      show this help";

/// The signals passed on to CMD instead of ending the subreaper.
const FORWARDED: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];

#[derive(Debug, PartialEq)]
struct Options {
    verbose: bool,
    command: Vec<OsString>,
}

// ANCHOR: main
fn main() {
    let options = cli::options_or_exit("subreaper", USAGE, parse);
    // prctl(2): from now on, an orphan among our descendants comes to us
    // instead of going to init (kernel/exit.c, find_new_reaper).
    if let Err(e) = prctl::set_child_subreaper(true) {
        fail(
            "subreaper",
            1,
            &format!("prctl(PR_SET_CHILD_SUBREAPER): {e}"),
        );
    }
    let signals = watch_signals().unwrap_or_else(|e| fail("subreaper", 1, &e));
    let command = start(&options.command, options.verbose);
    let mut reaper = Reaper::new(command, options.verbose);
    std::process::exit(reaper.run(&signals))
}
// ANCHOR_END: main

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut verbose = false;
    let mut command = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Short('v') | Long("verbose") => verbose = true,
            Value(first) => {
                command = cli::command_from(first, &mut parser)?;
                break;
            }
            other => return cli::other(other),
        }
    }
    let command = cli::some_command(command)?;
    Ok(Request::Run(Options { verbose, command }))
}

// ANCHOR: signals
/// Blocks SIGCHLD and the forwarded signals and opens a signalfd(2) for
/// them: they then wait in a file descriptor, and one blocking read(2)
/// sleeps in the kernel until a child changes state or a signal comes.
/// No handler runs, so nothing races with the main loop.
fn watch_signals() -> Result<SignalFd, String> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    for signal in FORWARDED {
        mask.add(signal);
    }
    mask.thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC).map_err(|e| format!("signalfd: {e}"))
}
// ANCHOR_END: signals

/// Starts CMD with an empty signal mask: a blocked signal stays blocked
/// across execve(2) (signal(7)), and CMD must be killable by the signals
/// we pass on. Exits 127 when CMD is not found and 126 when it cannot be
/// run, as a shell does.
fn start(command: &[OsString], verbose: bool) -> Pid {
    let name = command[0].to_string_lossy().into_owned();
    // The line announcing the child is written by the child itself, before
    // it runs CMD, so that it comes before anything CMD prints or logs.
    let prefix = format!("subreaper[{}]: forked PID ", getpid()).into_bytes();
    let suffix = format!(" to run {name}\n").into_bytes();
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]);
    // SAFETY: the closure runs in the forked child before execve and only
    // calls pthread_sigmask(3), getpid(2) and write(2), which are
    // async-signal-safe (signal-safety(7)), and fills a stack buffer.
    unsafe {
        cmd.pre_exec(move || {
            SigSet::empty().thread_set_mask()?;
            if verbose {
                announce_self(&prefix, &suffix);
            }
            Ok(())
        });
    }
    match cmd.spawn() {
        Ok(child) => Pid::from_raw(child.id() as i32),
        Err(error) => {
            let code = if error.kind() == ErrorKind::NotFound {
                127
            } else {
                126
            };
            fail("subreaper", code, &format!("cannot run '{name}': {error}"))
        }
    }
}

/// Writes `PREFIX<our PID>SUFFIX` on stderr in one write(2), without
/// allocating: it runs in a freshly forked child.
fn announce_self(prefix: &[u8], suffix: &[u8]) {
    let mut line = [0u8; 512];
    let mut len = 0;
    let mut push = |bytes: &[u8]| {
        let n = bytes.len().min(line.len() - len);
        line[len..len + n].copy_from_slice(&bytes[..n]);
        len += n;
    };
    push(prefix);
    let mut digits = [0u8; 10];
    let mut pid = getpid().as_raw().unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    push(&digits[at..]);
    push(suffix);
    let _ = nix::unistd::write(std::io::stderr(), &line[..len]);
}

/// What the subreaper knows about its children.
struct Reaper {
    /// CMD, the one child we started ourselves.
    command: Pid,
    /// CMD's status for the shell, once CMD has been reaped.
    command_status: Option<i32>,
    /// Every child we know of and have not reaped yet: CMD and adoptees.
    known: BTreeSet<i32>,
    verbose: bool,
}

// ANCHOR: run
impl Reaper {
    fn new(command: Pid, verbose: bool) -> Reaper {
        Reaper {
            command,
            command_status: None,
            known: BTreeSet::from([command.as_raw()]),
            verbose,
        }
    }

    /// The main loop: note new children, reap the finished ones, and sleep
    /// in read(2) on the signalfd until the next SIGCHLD or signal. Returns
    /// CMD's status once wait reports that no child at all is left.
    fn run(&mut self, signals: &SignalFd) -> i32 {
        loop {
            self.notice_adoptions();
            if !self.reap_finished() {
                return self.command_status.unwrap_or(1);
            }
            match signals.read_signal() {
                Ok(Some(info)) => self.forward(info.ssi_signo as i32),
                Ok(None) | Err(Errno::EINTR) => {}
                Err(e) => fail("subreaper", 1, &format!("reading the signalfd: {e}")),
            }
        }
    }
    // ANCHOR_END: run

    // ANCHOR: adoptions
    /// Compares our children in `/proc` with those we know. The kernel
    /// does not tell a subreaper that it has adopted someone (it signals
    /// the new parent only when the orphan is already a zombie, in
    /// kernel/exit.c `reparent_leader`), so we look whenever we wake up.
    fn notice_adoptions(&mut self) {
        for pid in children(getpid().as_raw()) {
            if self.known.insert(pid) {
                self.say(&format!("adopted PID {pid} ({})", name_of(pid)));
            }
        }
    }
    // ANCHOR_END: adoptions

    // ANCHOR: reap
    /// Reaps every child that has finished. Returns false when we have no
    /// child left at all (ECHILD): then we are done.
    fn reap_finished(&mut self) -> bool {
        loop {
            // waitid(2) with WNOWAIT peeks at a finished child and leaves
            // it a zombie, so its name can still be read in /proc before
            // the real reap below frees it.
            let pid = match peek_ended() {
                Ok(Some(pid)) => pid,
                Ok(None) => return true,
                Err(Errno::ECHILD) => return false,
                Err(e) => fail("subreaper", 1, &format!("waitid: {e}")),
            };
            let name = name_of(pid);
            // It is a zombie, so this returns at once.
            match reap(pid, Wait::Block) {
                Ok(Some(reaped)) => self.reaped(reaped, &name),
                Ok(None) => {}
                Err(e) => fail("subreaper", 1, &format!("waitpid({pid}): {e}")),
            }
        }
    }

    fn reaped(&mut self, Reaped { pid, status }: Reaped, name: &str) {
        if !self.known.remove(&pid) {
            self.say(&format!("adopted PID {pid} ({name}), noticed as it ended"));
        }
        if pid == self.command.as_raw() {
            self.command_status = status.shell_status();
        }
        self.say(&format!("reaped PID {pid} ({name}): {status}"));
    }
    // ANCHOR_END: reap

    // ANCHOR: forward
    /// Passes a signal on to CMD while it runs, else to the orphans we
    /// hold: a subreaper that kept it would leave them running.
    fn forward(&mut self, signo: i32) {
        let Ok(signal) = Signal::try_from(signo) else {
            return;
        };
        if !FORWARDED.contains(&signal) {
            return; // SIGCHLD: only a wake-up call.
        }
        let targets: Vec<i32> = if self.command_status.is_none() {
            vec![self.command.as_raw()]
        } else {
            self.known.iter().copied().collect()
        };
        for pid in targets {
            if kill(Pid::from_raw(pid), signal).is_ok() {
                self.say(&format!("forwarded {} to PID {pid}", signal.as_str()));
            }
        }
    }
    // ANCHOR_END: forward

    fn say(&self, message: &str) {
        if self.verbose {
            // With our PID, so that nested subreapers can be told apart;
            // one write(2) per line, so that lines of several writers
            // sharing the terminal do not cut into each other.
            let line = format!("subreaper[{}]: {message}\n", getpid());
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

/// The command name of `pid`, or "?" once it is gone from `/proc`.
fn name_of(pid: i32) -> String {
    comm(pid).unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn options_before_the_command_are_ours() {
        let o = options(parse, &["-v", "sh", "-v"]);
        assert!(o.verbose);
        assert_eq!(o.command, ["sh", "-v"]);
        assert!(!options(parse, &["--", "-v"]).verbose);
        help_and_version(parse);
        assert!(refusal(parse, &["-v"]).contains("no command given"));
        assert!(refusal(parse, &["-x", "sh"]).contains("-x"));
    }
}
