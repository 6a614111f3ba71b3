//! Starting the command: a child of foster, in a process group of its own,
//! in the terminal's foreground when there is a terminal, and with the
//! signal state a freshly started program expects.

use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};

use foster::sys::{is_ignored, set_action, ChildSetup, ChildUser};
use foster::user::Identity;
use nix::libc;
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::unistd::{
    getegid, geteuid, getpgrp, isatty, setgid, setgroups, setpgid, setuid, tcsetpgrp, Gid, Pid, Uid,
};

// ANCHOR: spawn
/// Starts `command` and returns its PID. std's `Command` forks, runs
/// [`prepare_child`] in the child, and execs; if the exec fails, `spawn`
/// returns that error here, in foster, with no child left behind.
/// `terminal` is foster's stdin when it is a terminal ([`terminal`]);
/// `identity`, whom the command runs as (`-u`), with its `HOME`.
pub fn spawn(
    command: &[OsString],
    original_mask: SigSet,
    terminal: Option<OwnedFd>,
    identity: Option<&Identity>,
) -> io::Result<Pid> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command"))?;
    let setup = ChildSetup {
        original_mask,
        terminal,
        user: identity.filter(|id| !already(id)).map(|id| ChildUser {
            uid: Uid::from_raw(id.uid),
            gid: Gid::from_raw(id.gid),
            groups: id.groups.iter().map(|&g| Gid::from_raw(g)).collect(),
        }),
    };
    let mut child = foster::sys::command_with_setup(program, args, setup);
    if let Some(identity) = identity {
        child.env("HOME", &identity.home);
    }
    let child = child.spawn()?;
    Ok(Pid::from_raw(child.id() as i32))
}
// ANCHOR_END: spawn

/// Whether foster already runs as `identity`'s user and group, and is not
/// root: then there is nothing to change, and nothing it could change
/// (setgroups(2) needs CAP_SETGID even to set what is there).
fn already(identity: &Identity) -> bool {
    let (uid, gid) = (geteuid().as_raw(), getegid().as_raw());
    uid != 0 && uid == identity.uid && gid == identity.gid
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
    // foster changed three dispositions of its own: SIGCHLD, which stays
    // at its default for the command too; SIGPIPE, which Rust's runtime
    // ignores before `main`; SIGXFSZ, which foster ignores (a log write
    // past RLIMIT_FSIZE then fails with EFBIG instead of killing foster).
    // Give those two back what foster inherited. (sigaction cannot fail
    // for them; if it did, the command would still run.)
    let _ = set_action(Signal::SIGPIPE, SIGPIPE_WAS_IGNORED.load(Ordering::Relaxed));
    let _ = set_action(Signal::SIGXFSZ, SIGXFSZ_WAS_IGNORED.load(Ordering::Relaxed));
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&setup.original_mask), None)?;
    if let Some(user) = &setup.user {
        setgroups(&user.groups)?;
        setgid(user.gid)?;
        setuid(user.uid)?;
    }
    Ok(())
}

/// Whether SIGPIPE was ignored when foster started, before Rust's runtime
/// set it to "ignore" for foster itself.
static SIGPIPE_WAS_IGNORED: AtomicBool = AtomicBool::new(false);
/// Whether SIGXFSZ was ignored when foster started, before foster did.
static SIGXFSZ_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

/// Notes whether SIGPIPE and SIGXFSZ are ignored right now, then ignores
/// SIGXFSZ. foster calls it from the ELF `.init_array` ([`foster::sys`]),
/// whose functions the C library runs before Rust's runtime starts, so it
/// sees what the parent left.
pub fn note_inherited_actions() {
    SIGPIPE_WAS_IGNORED.store(is_ignored(libc::SIGPIPE), Ordering::Relaxed);
    SIGXFSZ_WAS_IGNORED.store(is_ignored(libc::SIGXFSZ), Ordering::Relaxed);
    let _ = set_action(Signal::SIGXFSZ, true);
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
/// in foster, because the child may not allocate ([`foster::sys::stdin`]).
pub fn terminal() -> Option<OwnedFd> {
    let stdin = foster::sys::stdin();
    if !isatty(stdin).unwrap_or(false) {
        return None;
    }
    stdin.try_clone_to_owned().ok()
}
