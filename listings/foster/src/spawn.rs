//! Starting the command: a child of foster, in a process group of its own,
//! in the terminal's foreground when there is a terminal, and with the
//! signal state a freshly started program expects.

use std::ffi::OsString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
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
    let mut child = Command::new(program);
    child.args(args);
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe calls are allowed (signal-safety(7)):
    // prepare_child makes only setpgid, sigprocmask, tcsetpgrp and
    // sigaction calls, reads an atomic, and allocates nothing.
    unsafe {
        child.pre_exec(move || prepare_child(&original_mask, terminal.as_ref()));
    }
    let child = child.spawn()?;
    Ok(Pid::from_raw(child.id() as i32))
}
// ANCHOR_END: spawn

// ANCHOR: prepare_child
/// In the child, between fork and exec.
fn prepare_child(original_mask: &SigSet, terminal: Option<&OwnedFd>) -> io::Result<()> {
    // Its own process group, so that `-g` signals reach the command and
    // its children but not foster, and so it can own the terminal.
    setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
    if let Some(terminal) = terminal {
        become_foreground(terminal);
    }
    // execve(2) resets handlers, but an "ignore" survives it, and the
    // command should get what foster's parent gave foster: `nohup foster
    // CMD` leaves SIGHUP ignored for CMD, as it would without foster.
    // foster changed two dispositions of its own: SIGCHLD, which stays at
    // its default for the command too, and SIGPIPE, which Rust's runtime
    // ignores before `main`: give SIGPIPE back what foster inherited.
    let sigpipe = if SIGPIPE_WAS_IGNORED.load(Ordering::Relaxed) {
        SigHandler::SigIgn
    } else {
        SigHandler::SigDfl
    };
    // SAFETY: SIG_DFL and SIG_IGN install no handler, so no Rust code can
    // run in a signal context; sigaction(2) is async-signal-safe. (It
    // cannot fail for SIGPIPE; if it did, the command would still run.)
    let _ = unsafe { signal(Signal::SIGPIPE, sigpipe) };
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(original_mask), None)?;
    Ok(())
}

/// Whether SIGPIPE was ignored when foster started, before Rust's runtime
/// set it to "ignore" for foster itself.
static SIGPIPE_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

/// Notes whether SIGPIPE is ignored right now. foster's `main.rs` calls it
/// from the ELF `.init_array`, whose functions the C library runs before
/// Rust's runtime starts, so it sees what the parent left.
pub fn note_inherited_sigpipe() {
    // SAFETY: sigaction(2) with no new action only fills `old`, a
    // zero-initialized sigaction (plain old data) that lives on our stack.
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    };
    SIGPIPE_WAS_IGNORED.store(ignored, Ordering::Relaxed);
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
/// in foster, because the child may not allocate. Not through std's
/// `stdin()`, which would first set up the 8 KiB buffer of its reader,
/// which foster never reads.
pub fn terminal() -> Option<OwnedFd> {
    // SAFETY: descriptor 0 is borrowed for these two calls only, and
    // nothing closes it meanwhile; if it is not open, both fail (EBADF).
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    if !isatty(stdin).unwrap_or(false) {
        return None;
    }
    stdin.try_clone_to_owned().ok()
}
