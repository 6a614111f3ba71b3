//! `probe`: who adopts a process whose parent has gone?
//!
//! The root forks a child, the child forks a grandchild, the child exits,
//! and the grandchild reports who its parent is now. Every process sends
//! what it knows up a pipe; only the root prints.

use std::ffi::{CStr, CString, OsString};
use std::os::fd::{AsFd, OwnedFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::wait;
use nix::unistd::{fork, getpid, getppid, pipe, read, write, ForkResult};
use orphans::cli::{self, fail, Request};
use orphans::probe::picture::html_block;
use orphans::probe::report::{
    host_pids_visible, picture, reading, render, Format, Record, Role, Row, RECORD_SIZE,
};
use orphans::process::exit_now;
use orphans::process::procfs::first_nspid;

const USAGE: &str = "\
usage: probe [--format markdown|org|json] [--explain] [--picture]
             [--host-proc DIR]

Forks a child, which forks a grandchild; the child exits, and the
grandchild reports who adopted it. Prints one row per process.

  --format FORMAT   markdown (default), org or json
  --explain         after a text table, one paragraph saying who adopted
                    the grandchild and why
  --picture         before the markdown table, the same run drawn as an
                    inline SVG (in an HTML <div>): the process tree at
                    birth and after the child's exit
  --host-proc DIR   a procfs of an outer PID namespace (e.g. the host's
                    /proc bind-mounted at DIR): read host PIDs there
  -V, --version     show the version
  -h, --help        show this help";

/// How long the grandchild waits to be adopted before it gives up, and how
/// long the root waits for news from below.
const PATIENCE_MS: u16 = 5000;

// ANCHOR: main
fn main() {
    let options = cli::options_or_exit("probe", USAGE, parse);
    let rows = run_probe(&options.status_path).unwrap_or_else(|e| fail("probe", 1, &e));
    if options.picture {
        print!(
            "{}",
            picture(&rows).map(|p| html_block(&p)).unwrap_or_default()
        );
    }
    print!("{}", render(&rows, options.format));
    if options.explain && options.format != Format::Json {
        print!("\n{}", reading(&rows).unwrap_or_default());
    }
}
// ANCHOR_END: main

/// What the command line asked for.
#[derive(Debug, PartialEq)]
struct Options {
    format: Format,
    explain: bool,
    /// Draw the run as an SVG picture above the (markdown) table.
    picture: bool,
    /// The status file in which each process looks up its own host PID.
    status_path: CString,
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut format = Format::Markdown;
    let mut explain = false;
    let mut picture = false;
    let mut proc_dir = String::from("/proc");
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("explain") => explain = true,
            Long("picture") => picture = true,
            Long("format") => format = cli::text(parser.value())?.parse()?,
            Long("host-proc") => proc_dir = cli::text(parser.value())?,
            other => return cli::other(other),
        }
    }
    if picture && format != Format::Markdown {
        return Err("--picture is HTML for a markdown page: use it with --format markdown".into());
    }
    let status_path = CString::new(format!("{proc_dir}/self/status"))
        .map_err(|_| "--host-proc contains a NUL byte")?;
    Ok(Request::Run(Options {
        format,
        explain,
        picture,
        status_path,
    }))
}

// ANCHOR: root
/// The root: starts the child, collects the reports of the child and the
/// grandchild, and reaps whoever became its child.
fn run_probe(status_path: &CStr) -> Result<Vec<Row>, String> {
    // Host PIDs are read only where this procfs can tell them; elsewhere
    // they are unknown (0), never our own PIDs passed off as the host's.
    let status_path = host_pids_visible(status_path).then_some(status_path);
    let (from_below, to_root) = pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: the probe has a single thread, so the child gets a consistent
    // copy of memory; the child makes only async-signal-safe calls and
    // leaves through exit_now (see be_child).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => be_child(to_root, status_path),
        Ok(ForkResult::Parent { .. }) => {}
        Err(e) => return Err(format!("fork: {e}")),
    }
    // Our own copy of the write end must go, or we would never see EOF.
    drop(to_root);
    let mut records = vec![Record {
        role: Role::Root,
        pid: getpid().as_raw(),
        ppid: getppid().as_raw(),
        ppid_at_birth: 0,
        host_pid: host_pid(status_path),
        timed_out: false,
    }];
    records.extend(receive_records(&from_below)?);
    // The child for sure, and the grandchild too if we are its reaper
    // (as PID 1 of a namespace, or as a subreaper): wait(2) until ECHILD.
    while wait().is_ok() {}
    check_complete(&records)?;
    Ok(records.iter().map(Row::from_record).collect())
}
// ANCHOR_END: root

// ANCHOR: child
/// The child: starts the grandchild, waits until the grandchild is ready to
/// notice its death, reports, and exits. Never returns.
fn be_child(to_root: OwnedFd, status_path: Option<&CStr>) -> ! {
    let Ok((armed_rx, armed_tx)) = pipe() else {
        exit_now(1)
    };
    // SAFETY: we are the single thread of a freshly forked process; the
    // grandchild, like us, makes only async-signal-safe calls.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(armed_rx);
            be_grandchild(to_root, armed_tx, status_path)
        }
        Ok(ForkResult::Parent { .. }) => {}
        Err(_) => exit_now(1),
    }
    drop(armed_tx);
    // One byte means "armed"; end of file means the grandchild is gone.
    let _ = read(armed_rx.as_fd(), &mut [0u8; 1]);
    send(
        &to_root,
        Role::Child,
        getppid().as_raw(),
        0,
        status_path,
        false,
    );
    exit_now(0)
}
// ANCHOR_END: child

// ANCHOR: grandchild
/// The grandchild: asks the kernel for a signal when its parent dies,
/// tells the child it may go, waits for that signal, and reports who its
/// parent is now. Never returns.
fn be_grandchild(to_root: OwnedFd, armed_tx: OwnedFd, status_path: Option<&CStr>) -> ! {
    let parent_at_birth = getppid().as_raw();
    // Block SIGUSR1 so it waits for us in the signalfd instead of killing us.
    let mut usr1 = SigSet::empty();
    usr1.add(Signal::SIGUSR1);
    let waiter = usr1
        .thread_block()
        .and_then(|()| SignalFd::with_flags(&usr1, SfdFlags::SFD_CLOEXEC));
    let Ok(waiter) = waiter else { exit_now(1) };
    // prctl(2): PR_SET_PDEATHSIG sends us SIGUSR1 when our parent exits.
    // The kernel sends it from forget_original_parent() (kernel/exit.c),
    // after it has chosen our new parent, so getppid() is already right.
    if prctl::set_pdeathsig(Signal::SIGUSR1).is_err() {
        exit_now(1)
    }
    // The parent may have left before the prctl took effect: then no
    // signal will come, and getppid() tells us it already happened.
    let orphaned_already = getppid().as_raw() != parent_at_birth;
    let _ = write(&armed_tx, &[1]);
    drop(armed_tx);
    let timed_out = !orphaned_already && !signal_arrives(&waiter);
    let parent_now = getppid().as_raw();
    send(
        &to_root,
        Role::Grandchild,
        parent_now,
        parent_at_birth,
        status_path,
        timed_out,
    );
    exit_now(0)
}
// ANCHOR_END: grandchild

/// True when a signal arrives on `waiter` within [`PATIENCE_MS`].
fn signal_arrives(waiter: &SignalFd) -> bool {
    let mut fds = [PollFd::new(waiter.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::from(PATIENCE_MS)), Ok(n) if n > 0)
}

/// Writes this process's record to the root: one write(2) of a fixed-size
/// buffer, which allocates nothing.
fn send(
    to_root: &OwnedFd,
    role: Role,
    ppid: i32,
    birth: i32,
    status: Option<&CStr>,
    timed_out: bool,
) {
    let record = Record {
        role,
        pid: getpid().as_raw(),
        ppid,
        ppid_at_birth: birth,
        host_pid: host_pid(status),
        timed_out,
    };
    let _ = write(to_root, &record.to_bytes());
}

/// This process's host PID, read from the status file `status` (the first
/// number of its `NSpid:` line); 0, unknown, without one. Async-signal-safe.
fn host_pid(status: Option<&CStr>) -> i32 {
    status.and_then(first_nspid).unwrap_or(0)
}

/// Reads records until every writer has closed the pipe, giving up when
/// nothing arrives for [`PATIENCE_MS`].
fn receive_records(from_below: &OwnedFd) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    loop {
        let mut fds = [PollFd::new(from_below.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(PATIENCE_MS)) {
            Ok(0) => {
                return Err(format!(
                    "no news from the child or grandchild for {PATIENCE_MS} ms"
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(format!("poll: {e}")),
        }
        let mut buf = [0u8; RECORD_SIZE];
        match read(from_below.as_fd(), &mut buf) {
            Ok(0) => return Ok(records),
            Ok(RECORD_SIZE) => records.extend(Record::from_bytes(&buf)),
            Ok(n) => return Err(format!("a short record of {n} bytes on the pipe")),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// Refuses to print a table that would be wrong: all three rows must be
/// there, and the grandchild must have seen its parent change.
fn check_complete(records: &[Record]) -> Result<(), String> {
    let find = |role| records.iter().find(|r| r.role == role);
    let child = find(Role::Child).ok_or("the child never reported")?;
    let grandchild = find(Role::Grandchild).ok_or("the grandchild never reported")?;
    if grandchild.timed_out || grandchild.ppid == child.pid {
        return Err(format!(
            "the grandchild (PID {}) was not reparented within {PATIENCE_MS} ms: it expected \
             SIGUSR1 from PR_SET_PDEATHSIG after its parent, PID {}, exited",
            grandchild.pid, child.pid
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn options_and_their_defaults() {
        let plain = options(parse, &[]);
        assert_eq!(plain.format, Format::Markdown);
        assert!(!plain.explain && !plain.picture);
        assert_eq!(plain.status_path.to_str(), Ok("/proc/self/status"));
        let all = options(
            parse,
            &[
                "--format",
                "markdown",
                "--explain",
                "--picture",
                "--host-proc",
                "/host/proc",
            ],
        );
        assert!(all.explain && all.picture);
        assert_eq!(all.status_path.to_str(), Ok("/host/proc/self/status"));
        assert_eq!(options(parse, &["--format", "json"]).format, Format::Json);
        help_and_version(parse);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        for (args, reason) in [
            (&["--format", "xml"][..], "xml"),
            (&["--format"], "missing argument"),
            (&["--picture", "--format", "org"], "--picture"),
            (&["--bogus"], "--bogus"),
            (&["extra"], "unexpected"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
