//! `worker`: a well-behaved server in miniature. It waits for SIGTERM, notes
//! in the journal that it got it, and shuts down at once; it ends by itself
//! after its lifetime, so it never outlives a forgotten test.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use orphans::cli::bounds;
use orphans::cli::{self, fail, Request};
use orphans::namespace::journal::{self, Event};

const USAGE: &str = "\
usage: worker [--lifetime SECONDS]

Waits for SIGTERM, notes `sigterm worker PID` in the journal (the file
named by $ORPHANS_JOURNAL) and exits 0, as a server that shuts down
cleanly would. Notes `ready worker PID` once SIGTERM can no longer be
missed. Exits 0 by itself after its lifetime.

  --lifetime SECONDS  how long to wait for SIGTERM (default 30, at most 3600)
  -V, --version       show the version
  -h, --help          show this help";

// ANCHOR: main
fn main() {
    let lifetime = cli::options_or_exit("worker", USAGE, parse);
    // SIGTERM, blocked, waits in a signalfd(2) until we read it. A blocked
    // signal is never discarded, not even by PID 1 of a namespace
    // (kernel/signal.c, sig_ignored): this counts as handling it.
    let mut term = SigSet::empty();
    term.add(Signal::SIGTERM);
    let waiter = term
        .thread_block()
        .and_then(|()| SignalFd::with_flags(&term, SfdFlags::SFD_CLOEXEC))
        .unwrap_or_else(|e| fail("worker", 1, &format!("signalfd: {e}")));
    journal::note(Event::Ready, "worker");
    if sigterm_arrives_within(&waiter, lifetime) {
        journal::note(Event::Sigterm, "worker");
        // A real server would finish its requests and close its files here.
    }
}
// ANCHOR_END: main

/// True when SIGTERM arrives on `waiter` before `lifetime` has passed.
fn sigterm_arrives_within(waiter: &SignalFd, lifetime: Duration) -> bool {
    let timeout = PollTimeout::try_from(lifetime).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(waiter.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, timeout), Ok(n) if n > 0)
}

/// The worker's lifetime.
fn parse(args: Vec<OsString>) -> Result<Request<Duration>, String> {
    use lexopt::prelude::*;
    let mut lifetime = Duration::from_secs(30);
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("lifetime") => lifetime = bounds::seconds(parser.value(), 3600.0)?,
            other => return cli::other(other),
        }
    }
    Ok(Request::Run(lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn a_lifetime_within_bounds() {
        assert_eq!(options(parse, &[]), Duration::from_secs(30));
        assert_eq!(
            options(parse, &["--lifetime", "60"]),
            Duration::from_secs(60)
        );
        help_and_version(parse);
        assert!(refusal(parse, &["--lifetime", "1e9"]).contains("seconds"));
        assert!(refusal(parse, &["extra"]).contains("unexpected"));
    }
}
