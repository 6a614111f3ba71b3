//! `pause`: the first process of a pod, the part Kubernetes' pause
//! container plays. It holds the pod's namespaces by staying alive and does
//! nothing else, except, in a pod that shares its PID namespace, the one
//! duty of PID 1: reaping the orphans every container of the pod leaves.
//! `--no-reap` leaves that duty undone, `--auto-reap` hands it to the
//! kernel.

use std::ffi::OsString;

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use orphans::cli::{self, fail, Request};

const USAGE: &str = "\
usage: pause [--no-reap | --auto-reap]

Stays alive until SIGTERM or SIGINT comes, then exits 0: the first
container of a pod, whose namespaces the other containers join.

  (no option)    reap: on each SIGCHLD, collect every child that has died
  --no-reap      never collect a child: dead children stay zombies
  --auto-reap    set SIGCHLD to SIG_IGN, so that the kernel discards dead
                 children itself and none becomes a zombie (wait(2))
  -V, --version  show the version
  -h, --help     show this help";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Reap,
    NoReap,
    AutoReap,
}

// ANCHOR: main
fn main() {
    let mode = cli::options_or_exit("pause", USAGE, parse);
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGINT);
    match mode {
        Mode::Reap => signals.add(Signal::SIGCHLD),
        Mode::AutoReap => ignore_sigchld(),
        // SIGCHLD keeps its default action, which is to do nothing: the
        // dead children wait, as zombies, for a wait(2) that never comes.
        Mode::NoReap => {}
    }
    // Blocked, the signals wait for sigwait(3) to take them. A blocked
    // signal is never discarded, not even when PID 1 of a namespace has no
    // handler for it (kernel/signal.c, sig_ignored), so `docker stop`'s
    // SIGTERM does reach us.
    if let Err(e) = signals.thread_block() {
        fail("pause", 1, &format!("blocking signals: {e}"));
    }
    loop {
        match signals.wait() {
            Ok(Signal::SIGCHLD) => reap_every_dead_child(),
            Ok(_) => return, // SIGTERM or SIGINT: the pod is being stopped
            Err(e) => fail("pause", 1, &format!("sigwait: {e}")),
        }
    }
}

/// One SIGCHLD may stand for several deaths (a standard signal that is
/// already pending is not queued twice, signal(7)), so this asks waitpid(2)
/// until it says that no dead child is left (0) or no child at all (ECHILD).
fn reap_every_dead_child() {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
            // EINVAL: nix reaped a child but could not decode its status (a
            // real-time signal killed it). Reaped is all that matters here.
            Ok(_) | Err(Errno::EINTR | Errno::EINVAL) => continue,
            Err(e) => fail("pause", 1, &format!("waitpid: {e}")),
        }
    }
}
// ANCHOR_END: main

// ANCHOR: auto_reap
/// With SIGCHLD's action set to SIG_IGN, a child that exits is discarded
/// at once instead of becoming a zombie: POSIX asks for it (wait(2),
/// NOTES), and the kernel does it for adopted orphans too, since it looks
/// at the *current* parent's action when a child dies (do_notify_parent in
/// kernel/signal.c) and when it hands over a zombie (reparent_leader in
/// kernel/exit.c).
fn ignore_sigchld() {
    // SAFETY: SIG_IGN installs no handler, so no code of ours can run in
    // signal context; nothing else in this program touches SIGCHLD's action.
    if let Err(e) = unsafe { nix::sys::signal::signal(Signal::SIGCHLD, SigHandler::SigIgn) } {
        fail("pause", 1, &format!("ignoring SIGCHLD: {e}"));
    }
}
// ANCHOR_END: auto_reap

fn parse(args: Vec<OsString>) -> Result<Request<Mode>, String> {
    use lexopt::prelude::*;
    let mut mode = Mode::Reap;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        let wanted = match arg {
            Long("no-reap") => Mode::NoReap,
            Long("auto-reap") => Mode::AutoReap,
            other => return cli::other(other),
        };
        if mode != Mode::Reap && mode != wanted {
            return Err("--no-reap and --auto-reap exclude each other".into());
        }
        mode = wanted;
    }
    Ok(Request::Run(mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn one_mode_at_most() {
        for (args, mode) in [
            (&[][..], Mode::Reap),
            (&["--no-reap"], Mode::NoReap),
            (&["--auto-reap"], Mode::AutoReap),
            (&["--no-reap", "--no-reap"], Mode::NoReap),
        ] {
            assert_eq!(options(parse, args), mode, "{args:?}");
        }
        help_and_version(parse);
        for (args, reason) in [
            (&["--no-reap", "--auto-reap"][..], "exclude each other"),
            (&["--reap"], "--reap"),
            (&["x"], "unexpected"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
