//! `naive-init`: a PID 1 that was never meant to be one. It starts a command
//! and waits for that command only, the way a server or a language runtime
//! that starts a helper does. It never reaps anyone else, and by default it
//! does nothing about SIGTERM.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::process::{Child, Command};

use foster::status::{reap, Wait};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use orphans::cli::{self, fail, Request};
use orphans::namespace::journal::{self, Event};
use orphans::process::shell_code;

const USAGE: &str = "\
usage: naive-init [--exit-on-term] [--] CMD [ARGS...]

Runs CMD and waits for it, and for it only; exits with its status (128+N
if signal N killed it). Orphans it adopts are never reaped.

  --exit-on-term  on SIGTERM, note `sigterm naive-init PID` in the journal
                  ($ORPHANS_JOURNAL) and exit 143 at once, without passing
                  the signal on to CMD
  -V, --version   show the version
  -h, --help      show this help";

// ANCHOR: main
fn main() {
    let (exit_on_term, command) = cli::options_or_exit("naive-init", USAGE, parse);
    let status = if exit_on_term {
        run_exiting_on_sigterm(&command)
    } else {
        // waitpid(2) on the child's PID: other children that end up with us
        // (orphans, when we are PID 1) stay zombies for ever.
        let mut child = start(&command);
        match child.wait() {
            Ok(status) => shell_code(status),
            Err(e) => fail("naive-init", 1, &format!("wait: {e}")),
        }
    };
    std::process::exit(status);
}
// ANCHOR_END: main

// ANCHOR: exit_on_term
/// Waits for the child or for SIGTERM, whichever comes first. On SIGTERM it
/// exits, like a script with `trap 'exit 143' TERM`: the child is not told.
/// If we are PID 1, the kernel then kills the child with SIGKILL.
fn run_exiting_on_sigterm(command: &[String]) -> i32 {
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGCHLD);
    let waiter = signals
        .thread_block()
        .and_then(|()| SignalFd::with_flags(&signals, SfdFlags::SFD_CLOEXEC))
        .unwrap_or_else(|e| fail("naive-init", 1, &format!("signalfd: {e}")));
    // The standard library empties the signal mask of the child it starts,
    // so the command gets SIGTERM's default action back.
    let child = Pid::from_raw(start(command).id() as i32);
    loop {
        let mut fds = [PollFd::new(waiter.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::NONE);
        match waiter.read_signal() {
            Ok(Some(info)) if info.ssi_signo == Signal::SIGTERM as u32 => {
                journal::note(Event::Sigterm, "naive-init");
                return 128 + Signal::SIGTERM as i32;
            }
            // SIGCHLD: but we look at our own child only.
            _ => {
                if let Ok(Some(reaped)) = reap(child.as_raw(), Wait::NoHang) {
                    if let Some(code) = reaped.status.shell_status() {
                        return code;
                    }
                }
            }
        }
    }
}
// ANCHOR_END: exit_on_term

/// Starts `command`; exits 127 if it is not found and 126 if it cannot be
/// run, as a shell does.
fn start(command: &[String]) -> Child {
    Command::new(&command[0])
        .args(&command[1..])
        .spawn()
        .unwrap_or_else(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            fail(
                "naive-init",
                code,
                &format!("cannot run '{}': {e}", command[0]),
            )
        })
}

/// `--exit-on-term`, and the command to run.
fn parse(args: Vec<OsString>) -> Result<Request<(bool, Vec<String>)>, String> {
    use lexopt::prelude::*;
    let mut exit_on_term = false;
    let mut command = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("exit-on-term") => exit_on_term = true,
            Value(first) => {
                command = cli::command_from(first, &mut parser)?;
                break;
            }
            other => return cli::other(other),
        }
    }
    let command = cli::some_command(command)?
        .into_iter()
        .map(|word| word.into_string())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| "arguments must be UTF-8")?;
    Ok(Request::Run((exit_on_term, command)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn a_switch_then_the_command() {
        assert_eq!(
            options(parse, &["--exit-on-term", "worker", "--exit-on-term"]),
            (true, vec!["worker".into(), "--exit-on-term".into()])
        );
        assert!(!options(parse, &["sleep", "1"]).0);
        help_and_version(parse);
        assert!(refusal(parse, &[]).contains("no command given"));
        assert!(refusal(parse, &["--bogus", "true"]).contains("--bogus"));
    }
}
