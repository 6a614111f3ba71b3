//! Starting the command: a child of foster, in a process group of its own,
//! in the terminal's foreground when there is a terminal, and with the
//! signal state a freshly started program expects.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use foster::sys::{is_ignored, set_action};
use nix::libc;
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpgrp, isatty, setpgid, tcsetpgrp, Pid};

// ANCHOR: spawn
/// Starts `command` and returns its PID. std's `Command` forks, runs
/// [`prepare_child`] in the child, and execs; if the exec fails, `spawn`
/// returns that error here, in foster, with no child left behind.
/// `terminal` is foster's stdin when it is a terminal ([`terminal`]).
pub fn spawn(
    command: &[OsString],
    original_mask: SigSet,
    terminal: Option<OwnedFd>,
) -> io::Result<Pid> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command"))?;
    let setup = ChildSetup {
        original_mask,
        terminal,
    };
    let child = foster::sys::command_with_setup(program, args, setup).spawn()?;
    Ok(Pid::from_raw(child.id() as i32))
}
// ANCHOR_END: spawn

/// What the child needs between fork and exec, made in foster beforehand:
/// the child may not allocate.
pub struct ChildSetup {
    /// The signal mask foster found when it started.
    pub original_mask: SigSet,
    /// foster's stdin when it is a terminal.
    pub terminal: Option<OwnedFd>,
}

// ANCHOR: prepare_child
/// In the child, between fork and exec: only async-signal-safe calls
/// (signal-safety(7)) and no allocation ([`foster::sys::command_with_setup`]
/// relies on that).
pub fn prepare_child(setup: &ChildSetup) -> io::Result<()> {
    // Its own process group, so that `-g` signals reach the command and
    // its children but not foster, and so it can own the terminal.
    setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
    if let Some(terminal) = &setup.terminal {
        become_foreground(terminal);
    }
    // execve(2) resets handlers, but an "ignore" survives it, and the
    // command should get what foster's parent gave foster: `nohup foster
    // CMD` leaves SIGHUP ignored for CMD, as it would without foster.
    // foster changed two dispositions of its own: SIGCHLD, which stays at
    // its default for the command too, and SIGPIPE, which Rust's runtime
    // ignores before `main`: give SIGPIPE back what foster inherited.
    // (It cannot fail for SIGPIPE; if it did, the command would still run.)
    let _ = set_action(Signal::SIGPIPE, SIGPIPE_WAS_IGNORED.load(Ordering::Relaxed));
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&setup.original_mask), None)?;
    Ok(())
}

/// Whether SIGPIPE was ignored when foster started, before Rust's runtime
/// set it to "ignore" for foster itself.
static SIGPIPE_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

/// Notes whether SIGPIPE is ignored right now. foster calls it from the
/// ELF `.init_array` ([`foster::sys`]), whose functions the C library runs
/// before Rust's runtime starts, so it sees what the parent left.
pub fn note_inherited_sigpipe() {
    SIGPIPE_WAS_IGNORED.store(is_ignored(libc::SIGPIPE), Ordering::Relaxed);
}

/// Makes the child's process group the terminal's foreground group, so
/// that Ctrl-C at `docker run -it` reaches the command (termios(3)). A
/// process outside the foreground group that calls tcsetpgrp(3) gets
/// SIGTTOU and stops, unless it blocks that signal: block it (and SIGTTIN)
/// for the call. Failing is not fatal: stdin may be a terminal that is not
/// our controlling terminal (ENOTTY), and the command can run without it.
fn become_foreground(terminal: &OwnedFd) {
    let mut quiet = SigSet::empty();
    quiet.add(Signal::SIGTTOU);
    quiet.add(Signal::SIGTTIN);
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&quiet), None);
    let _ = tcsetpgrp(terminal, getpgrp());
}
// ANCHOR_END: prepare_child

/// foster's stdin, if it is a terminal: a copy of the descriptor made here,
/// in foster, because the child may not allocate (std's `stdin()` does).
pub fn terminal() -> Option<OwnedFd> {
    let stdin = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    isatty(&stdin).unwrap_or(false).then_some(stdin)
}
