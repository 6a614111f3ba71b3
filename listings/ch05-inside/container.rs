//! `container`: run a command as PID 1 of a new PID namespace, with its own
//! mount namespace and a fresh `/proc`: the PID part of what a container
//! runtime does, and what `unshare --pid --fork --mount-proc` does.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

use foster::status::{reap, Wait};
use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::unistd::{execvp, fork, getgid, getuid, ForkResult};
use orphans::cli::{self, fail, Request};
use orphans::process::exit_now;

const USAGE: &str = "\
usage: container [--host-proc DIR] [--detach] [--] CMD [ARGS...]

Runs CMD as PID 1 of a new PID namespace, with its own mount namespace and
a fresh /proc. Exits with CMD's status (128+N if signal N killed it).

  --host-proc DIR   also bind-mount the outer /proc at DIR (which must
                    exist), so CMD can read host PIDs there
  --detach          start PID 1 and exit at once with status 0, leaving
                    PID 1 to whoever adopts it (as `runc create` does)
  -V, --version     show the version
  -h, --help        show this help

As root it uses the namespaces directly; otherwise it maps the caller to
root in a new user namespace, as `unshare --user --map-root-user` does.";

#[derive(Debug, PartialEq)]
struct Options {
    host_proc: Option<CString>,
    detach: bool,
    command: Vec<CString>,
}

// ANCHOR: main
fn main() {
    let options = cli::options_or_exit("container", USAGE, parse);
    if let Err(message) = enter_new_namespaces() {
        fail("container", 1, &message);
    }
    // unshare(CLONE_NEWPID) does not move us: our *next child* is the
    // namespace's first process, PID 1 (pid_namespaces(7)).
    // SAFETY: single-threaded; the child only mounts and execs, and
    // leaves through exit_now if that fails.
    let pid1 = match unsafe { fork() } {
        Ok(ForkResult::Child) => become_pid1(&options),
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => fail("container", 1, &format!("fork: {e}")),
    };
    if options.detach {
        // Like a runtime that has created its container: our work is done,
        // and PID 1 becomes an orphan for the nearest subreaper (or init).
        std::process::exit(0);
    }
    // When PID 1 exits, the kernel kills everyone else in the namespace and
    // waits for them before PID 1's exit completes (zap_pid_ns_processes,
    // kernel/pid_namespace.c), so once waitpid returns the namespace is empty.
    loop {
        match reap(pid1.as_raw(), Wait::Block) {
            Ok(Some(reaped)) => {
                if let Some(code) = reaped.status.shell_status() {
                    std::process::exit(code);
                }
            }
            Ok(None) => {}
            Err(e) => fail("container", 1, &format!("waitpid: {e}")),
        }
    }
}
// ANCHOR_END: main

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut host_proc = None;
    let mut detach = false;
    let mut command = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("host-proc") => host_proc = Some(c_string(parser.value().map_err(cli::error)?)?),
            Long("detach") => detach = true,
            Value(first) => {
                command = cli::command_from(first, &mut parser)?;
                break;
            }
            other => return cli::other(other),
        }
    }
    Ok(Request::Run(Options {
        host_proc,
        detach,
        command: cli::some_command(command)?
            .into_iter()
            .map(c_string)
            .collect::<Result<_, _>>()?,
    }))
}

/// An argument as the C string execvp(3) and mount(2) take.
fn c_string(arg: OsString) -> Result<CString, String> {
    CString::new(arg.into_vec()).map_err(|_| "an argument contains a NUL byte".into())
}

// ANCHOR: unshare
/// Enters new PID and mount namespaces: directly when we may (root, or
/// CAP_SYS_ADMIN), else inside a new user namespace where we are root.
fn enter_new_namespaces() -> Result<(), String> {
    let pid_and_mount = CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS;
    match unshare(pid_and_mount) {
        Ok(()) => return Ok(()),
        Err(Errno::EPERM) => {}
        Err(e) => return Err(format!("unshare(CLONE_NEWPID|CLONE_NEWNS): {e}")),
    }
    let (uid, gid) = (getuid(), getgid());
    unshare(CloneFlags::CLONE_NEWUSER | pid_and_mount).map_err(|e| {
        format!(
            "cannot create a PID namespace ({e}): that needs root (CAP_SYS_ADMIN), or \
             unprivileged user namespaces (sysctl user.max_user_namespaces > 0 and, on \
             Debian/Ubuntu, kernel.unprivileged_userns_clone=1 or the AppArmor setting \
             kernel.apparmor_restrict_unprivileged_userns=0). Try again with sudo."
        )
    })?;
    // user_namespaces(7): a process without CAP_SETGID in the parent
    // namespace must deny setgroups(2) before it may write gid_map.
    let write = |file: &str, text: String| {
        std::fs::write(format!("/proc/self/{file}"), text)
            .map_err(|e| format!("writing /proc/self/{file}: {e}"))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("0 {uid} 1"))?;
    write("gid_map", format!("0 {gid} 1"))
}
// ANCHOR_END: unshare

// ANCHOR: pid1
/// In the child, PID 1 of the new namespace: give it its own `/proc`, then
/// become the command. Never returns.
fn become_pid1(options: &Options) -> ! {
    // If we die, our PID 1 dies too, and with it the whole namespace;
    // unless we are meant to leave it behind.
    if !options.detach {
        let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    }
    if let Err(message) = mount_fresh_proc(options.host_proc.as_deref()) {
        eprintln!("container: {message}");
        exit_now(1);
    }
    let error = match execvp(&options.command[0], &options.command) {
        Err(error) => error,
        Ok(never) => match never {},
    };
    let name = options.command[0].to_string_lossy();
    eprintln!("container: cannot run '{name}': {}", error.desc());
    // The shell's convention: 127 when the command is not found, 126 when
    // it was found but could not be run.
    exit_now(if error == Errno::ENOENT { 127 } else { 126 })
}

/// Mounts a procfs of the new PID namespace on `/proc`. Mount propagation
/// is turned off first, or on a host where `/` is shared (systemd's
/// default) the new mount would show up on the host too.
fn mount_fresh_proc(host_proc: Option<&std::ffi::CStr>) -> Result<(), String> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| format!("making / private: {e}"))?;
    if let Some(dir) = host_proc {
        mount(
            Some("/proc"),
            dir,
            none,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            none,
        )
        .map_err(|e| format!("bind-mounting /proc on {}: {e}", dir.to_string_lossy()))?;
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), "/proc", Some("proc"), flags, none)
        .map_err(|e| format!("mounting a fresh /proc: {e}"))
}
// ANCHOR_END: pid1

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn the_command_starts_at_the_first_word_that_is_not_an_option() {
        let o = options(parse, &["--detach", "--host-proc", "/h", "ls", "--detach"]);
        assert!(o.detach);
        assert_eq!(o.host_proc.as_deref(), Some(c"/h"));
        assert_eq!(o.command, [c"ls".to_owned(), c"--detach".to_owned()]);
        let o = options(parse, &["--", "--help"]);
        assert!(!o.detach && o.host_proc.is_none());
        assert_eq!(o.command, [c"--help".to_owned()]);
        help_and_version(parse);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        for (args, reason) in [
            (&[][..], "no command given"),
            (&["--detach"], "no command given"),
            (&["--host-proc"], "missing argument"),
            (&["--bogus", "ls"], "--bogus"),
            (&["ls", "a\0b"], "NUL"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
