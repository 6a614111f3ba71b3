//! `worker`: a well-behaved server in miniature. It waits for SIGTERM, notes
//! in the journal that it got it, and shuts down at once; it ends by itself
//! after its lifetime, so it never outlives a forgotten test.

use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use orphans::cli::{fail, usage_error};
use orphans::journal;

const USAGE: &str = "\
usage: worker [--lifetime SECONDS]

Waits for SIGTERM, notes `sigterm worker PID` in the journal (the file
named by $ORPHANS_JOURNAL) and exits 0, as a server that shuts down
cleanly would. Notes `ready worker PID` once SIGTERM can no longer be
missed. Exits 0 by itself after its lifetime.

  --lifetime SECONDS  how long to wait for SIGTERM (default 30, at most 3600)
  -h, --help          show this help";

// ANCHOR: main
fn main() {
    let lifetime = parse_arguments();
    // SIGTERM, blocked, waits in a signalfd(2) until we read it. A blocked
    // signal is never discarded, not even by PID 1 of a namespace
    // (kernel/signal.c, sig_ignored): this counts as handling it.
    let mut term = SigSet::empty();
    term.add(Signal::SIGTERM);
    let waiter = term
        .thread_block()
        .and_then(|()| SignalFd::with_flags(&term, SfdFlags::SFD_CLOEXEC))
        .unwrap_or_else(|e| fail("worker", 1, &format!("signalfd: {e}")));
    journal::note("ready", "worker");
    if sigterm_arrives_within(&waiter, lifetime) {
        journal::note("sigterm", "worker");
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

fn parse_arguments() -> Duration {
    use lexopt::prelude::*;
    let mut lifetime = Duration::from_secs(30);
    let mut parser = lexopt::Parser::from_env();
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("worker", error, USAGE) };
    loop {
        match parser.next() {
            Ok(Some(Short('h') | Long("help"))) => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Ok(Some(Long("lifetime"))) => {
                lifetime =
                    orphans::bounds::seconds(parser.value(), 3600.0).unwrap_or_else(|e| bad(&e))
            }
            Ok(Some(other)) => bad(&other.unexpected()),
            Ok(None) => return lifetime,
            Err(error) => bad(&error),
        }
    }
}
