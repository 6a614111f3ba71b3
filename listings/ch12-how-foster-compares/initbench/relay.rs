//! The floor: `initbench relay signalfd|sigwait -- CMD`, the least an init
//! can do and still forward signals and reap. It blocks every signal and
//! waits for the next one, either reading a signalfd(2) as foster and
//! catatonit do, or in sigwait(3) as tini and dumb-init do. Per signal: one
//! wake-up, one system call that returns it, one kill(2) to the command;
//! per SIGCHLD, waitpid(2) until no dead child is left. It exits with the
//! command's status. No options, no messages, no grace: a yardstick, not
//! an init to use. Its loop calls the C library directly, with nothing
//! around the calls, so that even a debug build of this program does
//! little more than the calls themselves. The command inherits the
//! blocked mask (initbench's own workloads block what they read anyway).

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;

use foster::status::Status;
// nix's own libc, whose sigset_t its SigSet holds (the chapter's block is
// compiled next to other copies of the libc crate).
use nix::libc;
use nix::sys::signal::SigSet;
use nix::sys::signalfd::{SfdFlags, SignalFd};
use orphans::cli::{fail, usage_error};
use orphans::process::exit_now;

const USAGE: &str = "usage: initbench relay signalfd|sigwait -- CMD [ARGS...]";

/// How the relay waits for the next signal.
enum Waiter {
    /// read(2) of one 128-byte record from a signalfd.
    Fd(OwnedFd),
    /// sigwait(3) on every signal.
    Sigwait(SigSet),
}

// ANCHOR: relay
/// `initbench relay signalfd|sigwait -- CMD [ARGS...]`.
pub fn relay(args: Vec<String>) {
    let (Some(how), Some("--")) = (args.first(), args.get(1).map(String::as_str)) else {
        usage_error(
            "initbench relay",
            &"expected signalfd|sigwait -- CMD",
            USAGE,
        )
    };
    let Some((program, rest)) = args[2..].split_first() else {
        usage_error("initbench relay", &"no command after --", USAGE)
    };
    let all = SigSet::all();
    if let Err(e) = all.thread_block() {
        fail("initbench relay", 1, &format!("sigprocmask: {e}"));
    }
    let waiter = match how.as_str() {
        "signalfd" => match SignalFd::with_flags(&all, SfdFlags::SFD_CLOEXEC) {
            Ok(fd) => Waiter::Fd(OwnedFd::from(fd)),
            Err(e) => fail("initbench relay", 1, &format!("signalfd: {e}")),
        },
        "sigwait" => Waiter::Sigwait(all),
        other => usage_error("initbench relay", &format!("unknown way '{other}'"), USAGE),
    };
    let child = match Command::new(program).args(rest).spawn() {
        Ok(child) => child.id() as libc::pid_t,
        Err(e) => fail("initbench relay", 127, &format!("{program}: {e}")),
    };
    // One signalfd_siginfo record, 128 bytes, read as 32-bit words.
    let mut record = [0u32; 32];
    loop {
        let number = waiter.next(&mut record);
        if number == libc::SIGCHLD {
            if let Some(code) = reap_until_none(child) {
                exit_now(code);
            }
        } else if number > 0 {
            // SAFETY: kill(2) takes two integers and touches no memory.
            unsafe { libc::kill(child, number) };
        }
    }
}
// ANCHOR_END: relay

impl Waiter {
    /// The next signal's number; 0 if the wait failed (interrupted).
    fn next(&self, record: &mut [u32; 32]) -> i32 {
        match self {
            Waiter::Fd(fd) => {
                // SAFETY: the kernel writes at most 128 bytes into
                // `record`, which has 128.
                let length = unsafe { libc::read(fd.as_raw_fd(), record.as_mut_ptr().cast(), 128) };
                // `ssi_signo` is the record's first field (signalfd(2)).
                if length == 128 {
                    record[0] as i32
                } else {
                    0
                }
            }
            Waiter::Sigwait(set) => {
                let mut number = 0;
                // SAFETY: sigwait reads the set and writes one int, both
                // alive for the call.
                unsafe { libc::sigwait(set.as_ref(), &mut number) };
                number
            }
        }
    }
}

/// Reaps every dead child; the command's status if it was one of them.
fn reap_until_none(command: libc::pid_t) -> Option<i32> {
    loop {
        let mut raw = 0;
        // SAFETY: waitpid writes one int through a pointer to `raw`.
        let pid = unsafe { libc::waitpid(-1, &mut raw, libc::WNOHANG | libc::__WALL) };
        if pid == command {
            return Status::from_raw(raw).shell_status();
        }
        if pid <= 0 {
            return None;
        }
    }
}
