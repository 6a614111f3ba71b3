//! `app`: the application in chapter 13's images. It behaves like many a
//! real program: as it starts it leaves a few helper processes behind
//! (orphans, which exit at once), then it serves until SIGTERM asks it to
//! stop, notes that in the journal, and exits 0. It ends by itself after
//! its lifetime, so a forgotten experiment never runs for ever.
//!
//! The orphans rename themselves `orphan` before they exit, so that whoever
//! looks at the container can tell their zombies from everything else.

use std::ffi::{CStr, OsString};
use std::os::fd::OwnedFd;

use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{alarm, fork, pipe, read, ForkResult};
use orphans::cli::bounds;
use orphans::cli::{self, fail, Request};
use orphans::namespace::journal::{self, Event};
use orphans::process::exit_now;

const USAGE: &str = "\
usage: app [--orphans N] [--lifetime SECONDS]

Leaves N orphans (default 3, at most 100) that exit at once, waits until
they have, gives their adopter a moment to reap them, and notes `ready app
PID` in the journal ($ORPHANS_JOURNAL). Then waits for SIGTERM: notes
`sigterm app PID` and exits 0. Exits 0 by itself after its lifetime.

  --orphans N          how many orphans to leave (default 3)
  --lifetime SECONDS   how long to wait for SIGTERM, whole seconds
                       (default 30, at most 3600)
  -V, --version        show the version
  -h, --help           show this help";

/// How long the orphans' new parent gets to reap them before `app` says it
/// is ready (and the experiment counts the zombies).
const REAPING_TIME: std::time::Duration = std::time::Duration::from_millis(300);

#[derive(Debug, PartialEq)]
struct Options {
    orphans: u32,
    lifetime: u32,
}

// ANCHOR: main
fn main() {
    let options = cli::options_or_exit("app", USAGE, parse);
    if options.orphans > 0 {
        leave_orphans(options.orphans).unwrap_or_else(|e| fail("app", 1, &e));
        std::thread::sleep(REAPING_TIME);
    }
    // SIGTERM (and the alarm that ends our lifetime) are blocked and then
    // taken with sigwait(3). A blocked signal is never discarded, not even
    // for PID 1 of a namespace (kernel/signal.c, sig_ignored), so `app`
    // hears SIGTERM whether it is PID 1 or not.
    let mut awaited = SigSet::empty();
    awaited.add(Signal::SIGTERM);
    awaited.add(Signal::SIGALRM);
    if let Err(e) = awaited.thread_block() {
        fail("app", 1, &format!("blocking signals: {e}"));
    }
    journal::note(Event::Ready, "app");
    alarm::set(options.lifetime);
    if awaited.wait() == Ok(Signal::SIGTERM) {
        journal::note(Event::Sigterm, "app");
        // A real application would finish its requests here.
    }
}
// ANCHOR_END: main

// ANCHOR: orphans
/// Forks a helper that forks `count` orphans and exits without waiting for
/// them; reaps the helper (our own child), and returns once every orphan
/// has exited. Their zombies now belong to whoever adopted them.
fn leave_orphans(count: u32) -> Result<(), String> {
    // Each process below holds the pipe's write end until it exits, so the
    // end of file on the read end means that they are all gone.
    let (all_gone, held) = pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: single-threaded so far; the children only fork, rename
    // themselves and leave through exit_now (async-signal-safe calls,
    // signal-safety(7)).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            for _ in 0..count {
                // SAFETY: as above.
                if let Ok(ForkResult::Child) = unsafe { fork() } {
                    let _ = prctl::set_name(ORPHAN_NAME);
                    exit_now(0);
                }
            }
            exit_now(0)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(held);
            waitpid(child, None).map_err(|e| format!("waitpid: {e}"))?;
            wait_for_end_of_file(&all_gone)
        }
        Err(e) => Err(format!("fork: {e}")),
    }
}
// ANCHOR_END: orphans

/// The name every orphan takes (prctl(2), `PR_SET_NAME`), and its zombie
/// keeps: what `/proc/PID/comm` shows.
const ORPHAN_NAME: &CStr = c"orphan";

/// Reads from `pipe` until every writer has closed it.
fn wait_for_end_of_file(pipe: &OwnedFd) -> Result<(), String> {
    let mut buffer = [0u8; 16];
    loop {
        match read(pipe, &mut buffer) {
            Ok(0) => return Ok(()),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        orphans: 3,
        lifetime: 30,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("orphans") => options.orphans = bounds::count(parser.value(), 0, 100)?,
            Long("lifetime") => options.lifetime = bounds::count(parser.value(), 1, 3600)?,
            other => return cli::other(other),
        }
    }
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn orphans_and_a_lifetime_within_bounds() {
        let defaults = Options {
            orphans: 3,
            lifetime: 30,
        };
        assert_eq!(options(parse, &[]), defaults);
        assert_eq!(
            options(parse, &["--orphans", "0", "--lifetime", "3600"]),
            Options {
                orphans: 0,
                lifetime: 3600
            }
        );
        help_and_version(parse);
        for (args, reason) in [
            (&["--orphans", "101"][..], "whole number"),
            (&["--lifetime", "0"], "whole number"),
            (&["--lifetime"], "missing argument"),
            (&["extra"], "unexpected"),
            (&["--bogus"], "--bogus"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
