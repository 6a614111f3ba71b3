//! The workloads behind the counts (`counts.rs`, `syscalls.rs`): events one
//! at a time, each only once the init is done with the one before, so that
//! every event costs the init exactly one wake-up and the same work in
//! every run, however busy the machine is.
//!
//! `initbench paced orphans|signals N [--after-stdin]`, run as the init's
//! child:
//! - `orphans`: N orphans, each made by a double fork; the next one only
//!   when the init has reaped it and gone back to sleep;
//! - `signals`: N times, a real-time signal to PID 1, which the init must
//!   forward back to this workload before the next one goes.
//!
//! With `--after-stdin` it first reads its stdin to the end: a tracer that
//! attaches to the init after the start closes that pipe once it is ready,
//! so that it misses none of the events.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe, read, write, ForkResult, Pid};
use orphans::cli::{fail, usage_error};
use orphans::process::exit_now;
use orphans::process::procfs;

const USAGE: &str = "usage: initbench paced orphans|signals N [--after-stdin]";

/// The signal of the `signals` workload: a real-time one (kernel number
/// 40; glibc calls it SIGRTMIN+6, musl SIGRTMIN+5), which every init
/// forwards like any other.
pub const PING: i32 = 40;

/// How long the workload waits for the init at most, per event.
const PATIENCE: Duration = Duration::from_secs(10);

/// `initbench paced orphans|signals N [--after-stdin]`.
pub fn paced(args: Vec<String>) {
    let (Some(kind), Some(count)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        usage_error("initbench paced", &"expected orphans|signals and N", USAGE)
    };
    let after_stdin = match args.get(2).map(String::as_str) {
        None => false,
        Some("--after-stdin") => true,
        Some(other) => usage_error("initbench paced", &format!("unknown '{other}'"), USAGE),
    };
    let work: fn(usize) -> Result<(), String> = match kind.as_str() {
        "orphans" => orphans_one_by_one,
        "signals" => signals_one_by_one,
        other => usage_error("initbench paced", &format!("unknown '{other}'"), USAGE),
    };
    if after_stdin {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    }
    work(count).unwrap_or_else(|e| fail("initbench paced", 1, &e));
}

// ANCHOR: paced_orphan
/// `count` orphans, one at a time. The middle process of the double fork
/// tells us the orphan's PID through a pipe; once kill(2) with signal 0
/// finds no such process, the init has reaped it (a zombie still answers),
/// and once PID 1 no longer runs, it is back in its wait for the next one.
fn orphans_one_by_one(count: usize) -> Result<(), String> {
    for _ in 0..count {
        let orphan = make_orphan()?;
        wait_for(|| kill(orphan, None) == Err(Errno::ESRCH))
            .map_err(|()| format!("orphan {orphan} was never reaped"))?;
        wait_for(init_is_waiting).map_err(|()| "PID 1 never went back to sleep".to_string())?;
    }
    Ok(())
}
// ANCHOR_END: paced_orphan

/// A double fork: the middle process starts the orphan, writes its PID to
/// a pipe and exits, so the orphan (which exits at once) goes to PID 1.
fn make_orphan() -> Result<Pid, String> {
    let (rx, tx) = pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: this workload is single-threaded; the middle process and the
    // orphan only fork, write and _exit (all async-signal-safe).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // SAFETY: as above, in the middle process.
            match unsafe { fork() } {
                Ok(ForkResult::Child) => exit_now(0),
                Ok(ForkResult::Parent { child }) => {
                    let _ = write(tx.as_fd(), &child.as_raw().to_ne_bytes());
                    exit_now(0)
                }
                Err(_) => exit_now(1),
            }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(tx);
            let _ = waitpid(child, None);
            let mut pid = [0u8; 4];
            match read(rx.as_fd(), &mut pid) {
                Ok(4) => Ok(Pid::from_raw(i32::from_ne_bytes(pid))),
                _ => Err("the middle process could not start an orphan".into()),
            }
        }
        Err(e) => Err(format!("fork: {e}")),
    }
}

// ANCHOR: paced_signal
/// `count` times: [`PING`] to PID 1, then wait until the init has
/// forwarded it back to us. Real-time signals queue rather than merge
/// (signal(7)), and one at a time none is ever pending twice anyway.
fn signals_one_by_one(count: usize) -> Result<(), String> {
    let ping = ping_set();
    block(&ping)?;
    let timeout = libc::timespec {
        tv_sec: PATIENCE.as_secs().try_into().unwrap_or(10),
        tv_nsec: 0,
    };
    for sent in 0..count {
        // SAFETY: kill(2) takes two integers and touches no memory of ours.
        Errno::result(unsafe { libc::kill(1, PING) }).map_err(|e| format!("kill: {e}"))?;
        // SAFETY: both pointers are to locals alive for the call; no
        // siginfo is asked for (NULL).
        let got = unsafe { libc::sigtimedwait(&ping, std::ptr::null_mut(), &timeout) };
        if got != PING {
            return Err(format!("signal {} of {count} never came back", sent + 1));
        }
    }
    Ok(())
}
// ANCHOR_END: paced_signal

/// The set holding [`PING`] alone. nix's `SigSet` has no real-time
/// signals, so this is the C library's sigset_t.
fn ping_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset(3) and sigaddset(3) only
    // write into the set we pass, which lives on our stack.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, PING);
        set
    }
}

/// Blocks `set`, so that its signals wait for sigtimedwait(2).
fn block(set: &libc::sigset_t) -> Result<(), String> {
    // SAFETY: sigprocmask(2) reads the set we pass and writes no old set.
    let result = unsafe { libc::sigprocmask(libc::SIG_BLOCK, set, std::ptr::null_mut()) };
    Errno::result(result)
        .map(drop)
        .map_err(|e| format!("sigprocmask: {e}"))
}

/// Whether PID 1 is asleep in a system call (state `S` in `/proc/1/stat`),
/// not running or ready to run (`R`), nor stopped by a tracer between two
/// steps of its loop (`t`, while `syscalls.rs` counts its calls).
fn init_is_waiting() -> bool {
    procfs::state(1) == Some('S')
}

/// Waits until `done` holds, looking every 20 µs, for [`PATIENCE`] at most.
fn wait_for(done: impl Fn() -> bool) -> Result<(), ()> {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        if Instant::now() > deadline {
            return Err(());
        }
        std::thread::sleep(Duration::from_micros(20));
    }
    Ok(())
}
