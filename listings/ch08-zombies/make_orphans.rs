//! `make-orphans [N]`: leaves N orphans (default 3) for whoever reaps them.
//! A helper for the book's demonstrations and foster's tests.
//!
//! It forks a child per batch of orphans; each child forks its share of
//! grandchildren, which exit at once, and exits without waiting for them.
//! Dead or alive, they are orphans: the kernel hands them to the nearest
//! subreaper or to PID 1, which has to reap them. Batches keep the number
//! of unreaped zombies (each holds a PID) small however large N is.

use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult};
use orphans::cli::{fail, usage_error};
use orphans::process::exit_now;

const USAGE: &str = "usage: make-orphans [N]   (N orphans, default 3)";
const BATCH: usize = 500;

fn main() {
    let count = match std::env::args().nth(1).as_deref() {
        None => 3,
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return;
        }
        Some(text) => text.parse::<usize>().unwrap_or_else(|_| {
            usage_error("make-orphans", &format!("not a count: {text}"), USAGE)
        }),
    };
    let mut left = count;
    while left > 0 {
        let batch = left.min(BATCH);
        orphan_a_batch(batch);
        left -= batch;
    }
}

// ANCHOR: batch
/// Forks a child that forks `size` grandchildren and exits, then reaps the
/// child (only the child: the grandchildren are no longer ours to reap).
fn orphan_a_batch(size: usize) {
    // SAFETY: single-threaded; the child and grandchildren only fork and
    // leave through exit_now (async-signal-safe, signal-safety(7)).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            for _ in 0..size {
                // SAFETY: as above.
                if let Ok(ForkResult::Child) = unsafe { fork() } {
                    exit_now(0);
                }
            }
            exit_now(0);
        }
        Ok(ForkResult::Parent { child }) => {
            if let Err(e) = waitpid(child, None) {
                fail("make-orphans", 1, &format!("waitpid: {e}"));
            }
        }
        Err(e) => fail("make-orphans", 1, &format!("fork: {e}")),
    }
}
// ANCHOR_END: batch
