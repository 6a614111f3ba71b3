//! `orphan-maker`: makes orphans that exit, then counts the zombies they
//! leave in its PID namespace.
//!
//! For each orphan it forks a middle process, which forks the orphan and
//! exits at once. The orphan outlives its parent briefly, then exits too.
//! Whoever adopted it must now reap it; `orphan-maker` waits a moment, scans
//! `/proc` for processes in state `Z`, and reports. It stays alive until
//! then, so the namespace (if it runs in one) lives on while it counts.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use foster::procfs::{comm, parent_of, pids, state};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, getpid, pipe, read, write, ForkResult};
use orphans::bounds;
use orphans::cli::{fail, usage_error};
use orphans::process::exit_now;
use serde_json::json;

const USAGE: &str = "\
usage: orphan-maker [-n N] [--settle SECONDS] [--hold SECONDS] [--format text|json]

Makes N orphans (double fork: each middle process exits at once, each
orphan exits right after its parent), waits until they are reaped or the
settle time is over, then counts the zombies in /proc and reports.

  -n N               how many orphans (default 5, at most 1000)
  --settle SECONDS   how long the orphans' adopter gets to reap them
                     (default 0.5, at most 10)
  --hold SECONDS     stay alive this long after reporting, to look at
                     the zombies from outside (default 0, at most 600)
  --format FORMAT    text (default) or json
  -h, --help         show this help";

/// How long to wait for news from the orphans before giving up.
const PATIENCE_MS: u16 = 5000;

struct Options {
    orphans: u32,
    settle: Duration,
    hold: Duration,
    json: bool,
}

/// What the run found.
struct Zombie {
    pid: i32,
    parent: i32,
}

fn main() {
    let options = parse_arguments();
    let (orphans, failure) =
        make_orphans(options.orphans).unwrap_or_else(|e| fail("orphan-maker", 1, &e));
    let waited = give_the_adopter_time_to_reap(&orphans, options.settle);
    let zombies = zombies_in_proc();
    let failure = failure.as_deref();
    if options.json {
        println!("{}", as_json(&orphans, &zombies, waited, failure));
    } else {
        print!("{}", as_text(&orphans, &zombies, waited, failure));
    }
    if !options.hold.is_zero() {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::thread::sleep(options.hold);
    }
}

// ANCHOR: make
/// Makes up to `n` orphans and returns their PIDs once every one of them
/// has exited (each orphan holds the write end of a pipe until it exits, so
/// the pipe's end of file means they are all gone), and why it stopped
/// early if a fork failed.
fn make_orphans(n: u32) -> Result<(Vec<i32>, Option<String>), String> {
    let (from_orphans, to_maker) = pipe().map_err(|e| format!("pipe: {e}"))?;
    let mut failure = None;
    for made in 0..n {
        // SAFETY: single-threaded; the middle process and the orphan make
        // only async-signal-safe calls and leave through exit_now.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => be_middle(from_orphans, to_maker),
            // The middle process is our own child, and it exits at once:
            // we do reap that one. Its exit code is fork's errno, or 0.
            Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, 0)) => {}
                Ok(WaitStatus::Exited(_, errno)) => {
                    let e = Errno::from_raw(errno);
                    failure = Some(format!("orphan {}: fork: {e}", made + 1));
                }
                other => failure = Some(format!("the middle process {child}: {other:?}")),
            },
            Err(e) => failure = Some(format!("orphan {}: fork: {e}", made + 1)),
        }
        if failure.is_some() {
            break;
        }
    }
    drop(to_maker);
    Ok((receive_pids(&from_orphans)?, failure))
}

/// The middle process: starts the orphan and exits at once, orphaning it.
fn be_middle(from_orphans: OwnedFd, to_maker: OwnedFd) -> ! {
    drop(from_orphans);
    let (parent_gone, held_by_parent) = match pipe() {
        Ok(ends) => ends,
        Err(errno) => exit_now(errno as i32),
    };
    // SAFETY: we are a single-threaded fresh child; so is the orphan.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(held_by_parent);
            be_orphan(to_maker, parent_gone)
        }
        Ok(ForkResult::Parent { .. }) => exit_now(0),
        Err(errno) => exit_now(errno as i32),
    }
}

/// The orphan: reports its PID, waits until its parent has exited (the
/// parent's end of a pipe closes), and exits in turn.
fn be_orphan(to_maker: OwnedFd, parent_gone: OwnedFd) -> ! {
    let _ = write(&to_maker, &getpid().as_raw().to_ne_bytes());
    let _ = read(parent_gone.as_fd(), &mut [0u8; 1]);
    exit_now(0)
}
// ANCHOR_END: make

/// Reads the orphans' PIDs until the pipe reports end of file.
fn receive_pids(from_orphans: &OwnedFd) -> Result<Vec<i32>, String> {
    let mut pids = Vec::new();
    loop {
        let mut fds = [PollFd::new(from_orphans.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(PATIENCE_MS)) {
            Ok(0) => return Err(format!("the orphans were silent for {PATIENCE_MS} ms")),
            Ok(_) => {}
            Err(e) => return Err(format!("poll: {e}")),
        }
        let mut buf = [0u8; 4];
        match read(from_orphans.as_fd(), &mut buf) {
            Ok(0) => return Ok(pids),
            Ok(4) => pids.push(i32::from_ne_bytes(buf)),
            Ok(n) => return Err(format!("a short PID of {n} bytes on the pipe")),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

// ANCHOR: count
/// Waits until every orphan has left `/proc` (its adopter reaped it), or
/// until `settle` is over. An orphan that closed its pipe may still be on
/// its way out, and a good adopter needs a moment to reap it: only what is
/// left after the settle time counts. Returns how long it waited.
fn give_the_adopter_time_to_reap(orphans: &[i32], settle: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < settle && orphans.iter().any(|&pid| state(pid).is_some()) {
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// Every zombie of this PID namespace: the processes whose state in
/// `/proc/PID/stat` is `Z` (proc(5)), with their parents.
fn zombies_in_proc() -> Vec<Zombie> {
    let mut zombies: Vec<Zombie> = pids()
        .into_iter()
        .filter(|&pid| state(pid) == Some('Z'))
        .map(|pid| Zombie {
            pid,
            parent: parent_of(pid).unwrap_or(0),
        })
        .collect();
    zombies.sort_by_key(|zombie| zombie.pid);
    zombies
}
// ANCHOR_END: count

fn as_json(
    orphans: &[i32],
    zombies: &[Zombie],
    waited: Duration,
    failure: Option<&str>,
) -> serde_json::Value {
    let zombies: Vec<_> = zombies
        .iter()
        .map(|z| json!({"pid": z.pid, "parent": z.parent, "parent_comm": comm(z.parent)}))
        .collect();
    json!({
        "orphans": orphans,
        "zombies": zombies,
        "waited_ms": waited.as_millis() as u64,
        "pid1_comm": comm(1),
        "fork_failure": failure,
    })
}

fn as_text(orphans: &[i32], zombies: &[Zombie], waited: Duration, failure: Option<&str>) -> String {
    let list = |pids: &mut dyn Iterator<Item = i32>| {
        pids.map(|pid| pid.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut text =
        failure.map_or_else(String::new, |failure| format!("stopped early: {failure}\n"));
    text += &format!(
        "made {} orphans (PIDs {}); all of them have exited\n",
        orphans.len(),
        list(&mut orphans.iter().copied())
    );
    text += &format!(
        "zombies in /proc after {} ms: {}\n",
        waited.as_millis(),
        zombies.len()
    );
    for zombie in zombies {
        let parent = comm(zombie.parent).unwrap_or_else(|| "?".into());
        text += &format!(
            "  PID {} (parent: PID {}, {parent})\n",
            zombie.pid, zombie.parent
        );
    }
    text
}

fn parse_arguments() -> Options {
    use lexopt::prelude::*;
    let mut options = Options {
        orphans: 5,
        settle: Duration::from_millis(500),
        hold: Duration::ZERO,
        json: false,
    };
    let mut parser = lexopt::Parser::from_env();
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("orphan-maker", error, USAGE) };
    loop {
        match parser.next() {
            Ok(Some(Short('h') | Long("help"))) => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Ok(Some(Short('n'))) => {
                options.orphans = bounds::count(parser.value(), 1, 1000).unwrap_or_else(|e| bad(&e))
            }
            Ok(Some(Long("settle"))) => {
                options.settle = bounds::seconds(parser.value(), 10.0).unwrap_or_else(|e| bad(&e))
            }
            Ok(Some(Long("hold"))) => {
                options.hold = bounds::seconds(parser.value(), 600.0).unwrap_or_else(|e| bad(&e))
            }
            Ok(Some(Long("format"))) => match parser.value().map(|v| v.into_string()) {
                Ok(Ok(format)) if format == "json" => options.json = true,
                Ok(Ok(format)) if format == "text" => options.json = false,
                Ok(_) => bad(&"--format takes text or json"),
                Err(error) => bad(&error),
            },
            Ok(Some(other)) => bad(&other.unexpected()),
            Ok(None) => return options,
            Err(error) => bad(&error),
        }
    }
}
