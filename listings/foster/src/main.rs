//! `foster`: an init for containers. It runs a command as its child,
//! forwards it the signals it gets, reaps every orphan it adopts, and when
//! the command exits, stops what is left, gently, before exiting with the
//! command's status. A drop-in for tini (same flags and variables).
#![deny(unsafe_code)] // foster's unsafe is all in foster::sys

use std::ffi::OsString;
use std::process::exit;

use foster::log::{say, Log};
use foster::options::{self, version, Options, Request, LICENSE, USAGE};
use foster::procfs;
use foster::reap::Reaper;
use foster::shutdown::shut_down;
use foster::signals::{name, send, Signals};
use foster::spawn::{spawn, terminal};
use foster::status::Status;
use foster::stop_delay::StopDelay;
use foster::user::Identity;
use nix::errno::Errno;
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

// ANCHOR: main
fn main() {
    let options = command_line();
    let log = Log {
        level: options.verbosity.level(),
    };
    // Setup: an error here exits with a message, since nothing runs yet.
    let signals = Signals::take_over().unwrap_or_else(|e| fail(1, format_args!("signals: {e}")));
    become_a_reaper(&options, log);
    if let Some(signal) = options.parent_death_signal {
        prctl::set_pdeathsig(signal).unwrap_or_else(|e| fail(1, format_args!("-p: {e}")));
    }
    let proc_is_ours = check_proc(log);
    let command = start(&options, &signals, log);
    let mut reaper = Reaper::new(command, log, options.warn_on_reap, proc_is_ours);
    let mut stop_delay = StopDelay::new(options.stop_delay.duration());

    // The loop. From here on an error only warns: foster must outlive the
    // command and keep reaping, whatever happens.
    let status = supervise(&signals, &mut reaper, &mut stop_delay, &options, log);
    shut_down(&signals, &mut reaper, options.grace.duration(), log);
    // Always Some: the reaper keeps only the status of a command that ended.
    exit(exit_status(status.shell_status().unwrap_or(1), &options));
}

/// The loop, until the command has ended: its status. A function of its
/// own, small, so that what each turn needs stays in registers rather than
/// in `main`'s crowded frame.
#[inline(never)]
fn supervise(
    signals: &Signals,
    reaper: &mut Reaper,
    stop_delay: &mut StopDelay,
    options: &Options,
    log: Log,
) -> Status {
    let target = forward_target(reaper.command, options);
    loop {
        let arrival = stop_delay.next(signals, log);
        if arrival.number == Signal::SIGCHLD as i32 {
            if let Some(status) = reaper.reap_all().command_status {
                return status;
            }
        } else if !stop_delay.holds(arrival, log) {
            forward(arrival.number, target, options, log);
        }
    }
}
// ANCHOR_END: main

// ANCHOR: forward
/// Passes a signal on to `target`, the command or its process group
/// ([`forward_target`]), after the `-r` rewrites; a rewrite to 0 drops it.
fn forward(number: i32, target: i32, options: &Options, log: Log) {
    let number = match options.rewrites.iter().find(|(from, _)| *from == number) {
        Some(&(_, 0)) => return log.trace(format_args!("dropped {}", name(number))),
        Some(&(_, to)) => to,
        None => number,
    };
    match send(target, number) {
        // Only at `-vv` is the name formatted: the String it takes would
        // be made and freed after every kill(2), while the command, woken
        // on foster's CPU, may be waiting for foster to go back to sleep.
        Ok(()) if log.tracing() => {
            log.trace(format_args!("forwarded {} to {target}", name(number)))
        }
        Ok(()) => {}
        // The command has just died; its SIGCHLD is on its way.
        Err(Errno::ESRCH) => {}
        Err(e) => log.warn(format_args!("warning: forwarding {}: {e}", name(number))),
    }
}

/// Whom signals go to: the command, or with `-g` its process group
/// (kill(2): a negative PID names a process group). A PID is positive, so
/// the negation cannot overflow; checked all the same.
fn forward_target(command: Pid, options: &Options) -> i32 {
    if options.process_group {
        command.as_raw().checked_neg().unwrap_or(0)
    } else {
        command.as_raw()
    }
}
// ANCHOR_END: forward

// ANCHOR: exit_status
/// The status foster exits with: the command's (128+N for signal N, as a
/// shell reports it), or 0 for a status listed with `-e`.
fn exit_status(status: i32, options: &Options) -> i32 {
    if options
        .success_codes
        .iter()
        .any(|&code| i32::from(code) == status)
    {
        0
    } else {
        status
    }
}
// ANCHOR_END: exit_status

// ANCHOR: setup
/// Orphans go to the nearest ancestor that is a child subreaper, else to
/// PID 1 (prctl(2), PR_SET_CHILD_SUBREAPER). PID 1 needs nothing; anywhere
/// else foster asks to be a subreaper, or no orphan would ever come to it.
fn become_a_reaper(options: &Options, log: Log) {
    if std::process::id() == 1 {
        return;
    }
    match prctl::set_child_subreaper(true) {
        Ok(()) => log.info(format_args!("not PID 1: registered as a child subreaper")),
        Err(e) if options.subreaper_required => fail(1, format_args!("cannot be a subreaper: {e}")),
        Err(e) => log.warn(format_args!(
            "warning: not PID 1 and cannot be a child subreaper ({e}): orphans will not be reaped"
        )),
    }
}

/// Whether `/proc` is the procfs of foster's own PID namespace. If it is
/// not (a host's `/proc` mounted into a container, or none at all), its
/// PIDs name other processes than foster's: foster says so and reads
/// nothing there (no names in messages, no adoptions at `-vv`, and not PID
/// 1, nobody to stop in the grace shutdown).
fn check_proc(log: Log) -> bool {
    match procfs::is_own() {
        Ok(()) => true,
        Err(why) => {
            log.warn(format_args!(
                "warning: {why}: not reading /proc (no names in messages; \
                 not PID 1, the grace shutdown cannot find the processes left)"
            ));
            false
        }
    }
}

/// Starts the command (as the user `-u` names), or exits the way a shell
/// would: 127 when it does not exist, 126 when it cannot be run.
fn start(options: &Options, signals: &Signals, log: Log) -> Pid {
    // Never empty (options::parse refuses an empty command); checked all the same.
    let program = options
        .command
        .first()
        .map(|p| p.to_string_lossy())
        .unwrap_or_default();
    let identity = options.user.as_ref().map(|spec| {
        spec.resolve_here().unwrap_or_else(|why| {
            fail(
                126,
                format_args!("cannot run '{program}' as {}: {why}", spec.user),
            )
        })
    });
    match spawn(
        &options.command,
        signals.original_mask,
        terminal(),
        identity.as_ref(),
    ) {
        Ok(pid) => {
            log.info(format_args!("started {program} as {pid}"));
            pid
        }
        Err(error) => {
            let code = if error.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            let who = identity.as_ref().map(as_whom).unwrap_or_default();
            let hint = match (&identity, error.raw_os_error()) {
                (Some(_), Some(libc::EPERM)) => "; changing user needs root",
                _ => "",
            };
            fail(
                code,
                format_args!("cannot run '{program}'{who}: {error}{hint}"),
            )
        }
    }
}

/// " as uid 1000, gid 1000", for a message.
fn as_whom(identity: &Identity) -> String {
    format!(" as uid {}, gid {}", identity.uid, identity.gid)
}
// ANCHOR_END: setup

fn command_line() -> Options {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match options::parse(args, &|name| std::env::var_os(name)) {
        Ok(Request::Run(options)) => options,
        Ok(Request::Help) => print_and_exit(USAGE),
        Ok(Request::Version) => print_and_exit(&version()),
        Ok(Request::License) => print_and_exit(LICENSE),
        Err(message) => {
            say(format_args!("{message}\n{USAGE}"));
            exit(options::USAGE_ERROR)
        }
    }
}

/// Prints `text` on stdout, ignoring a closed stdout, and exits 0.
fn print_and_exit(text: &str) -> ! {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
    exit(0)
}

fn fail(code: i32, message: std::fmt::Arguments) -> ! {
    say(message);
    exit(code)
}
