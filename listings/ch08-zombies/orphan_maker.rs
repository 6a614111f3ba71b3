//! `orphan-maker`: makes orphans that exit, then counts the zombies they
//! leave in its PID namespace.
//!
//! For each orphan it forks a middle process, which forks the orphan and
//! exits at once (`orphans::namespace::orphan::make`). The orphan outlives its parent
//! briefly, then exits too. Whoever adopted it must now reap it;
//! `orphan-maker` waits a moment, scans `/proc` for processes in state `Z`,
//! and reports. It stays alive until then, so the namespace (if it runs in
//! one) lives on while it counts. With `--leave N` it only leaves the
//! orphans, a load for a reaper such as foster.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use orphans::cli::bounds;
use orphans::cli::{self, fail, Request};
use orphans::namespace::orphan::{self, Exit, Orphans, Plan};
use orphans::process::procfs::{comm, parent_of, pids, state};
use serde_json::json;

const USAGE: &str = "\
usage: orphan-maker [-n N] [--one-by-one] [--settle SECONDS] [--hold SECONDS]
                    [--format text|json]
       orphan-maker --leave N

Makes N orphans (double fork: each middle process exits at once, each
orphan exits right after its parent), waits until they are reaped or the
settle time is over, then counts the zombies in /proc and reports.

With --leave, only leaves N orphans to whoever adopts them, in batches of
500 that exit at once, and exits without waiting or counting: a load for
a reaper. It prints nothing; a fork that fails is an error.

  -n N               how many orphans (default 5, at most 1000)
  --one-by-one       make each orphan only once the one before has been
                     reaped, or has had the settle time to be: the count
                     then shows what the adopter leaves, not whether it
                     keeps up with a loop of forks
  --settle SECONDS   how long the orphans' adopter gets to reap them
                     (default 0.5, at most 10)
  --hold SECONDS     stay alive this long after reporting, to look at
                     the zombies from outside (default 0, at most 600)
  --format FORMAT    text (default) or json
  --leave N          leave N orphans (at most 100000) and exit
  -V, --version      show the version
  -h, --help         show this help";

/// How long to wait for news from the orphans before giving up.
const PATIENCE: Duration = Duration::from_secs(5);

/// The batches of `--leave`: many orphans fast, few processes at a time.
const LEAVE_BATCH: usize = 500;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Options {
    /// Make orphans, then count the zombies they leave.
    Count(Counting),
    /// `--leave N`: make N orphans and exit.
    Leave(usize),
}

#[derive(Debug, PartialEq)]
struct Counting {
    orphans: u32,
    one_by_one: bool,
    settle: Duration,
    hold: Duration,
    json: bool,
}

impl Default for Counting {
    fn default() -> Counting {
        Counting {
            orphans: 5,
            one_by_one: false,
            settle: Duration::from_millis(500),
            hold: Duration::ZERO,
            json: false,
        }
    }
}

/// What the run found.
struct Zombie {
    pid: i32,
    parent: i32,
}

fn main() {
    match cli::options_or_exit("orphan-maker", USAGE, parse) {
        Options::Count(counting) => make_and_count(&counting),
        Options::Leave(count) => leave(count),
    }
}

fn make_and_count(options: &Counting) {
    let plan = Plan {
        count: options.orphans as usize,
        per_parent: 1,
        exit: Exit::AfterParent,
    };
    let orphans = made_and_exited(plan, options).unwrap_or_else(|e| fail("orphan-maker", 1, &e));
    let waited = give_the_adopter_time_to_reap(&orphans.pids, options.settle);
    let zombies = zombies_in_proc();
    let failure = orphans.failure.as_deref();
    if options.json {
        println!("{}", as_json(&orphans.pids, &zombies, waited, failure));
    } else {
        print!("{}", as_text(&orphans.pids, &zombies, waited, failure));
    }
    if !options.hold.is_zero() {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::thread::sleep(options.hold);
    }
}

/// The orphans of `plan`, once every one of them has exited; with
/// `--one-by-one`, each made once the one before has been reaped or has
/// had the settle time to be.
fn made_and_exited(plan: Plan, options: &Counting) -> Result<Orphans, String> {
    let mut orphans = if options.one_by_one {
        orphan::make_paced(plan, |orphan| {
            give_the_adopter_time_to_reap(orphan, options.settle);
        })?
    } else {
        orphan::make(plan)?
    };
    orphans.wait_until_exited(PATIENCE)?;
    Ok(orphans)
}

/// `--leave N`: the orphans are someone else's business from the start.
fn leave(count: usize) {
    let plan = Plan {
        count,
        per_parent: LEAVE_BATCH,
        exit: Exit::AtOnce,
    };
    match orphan::make(plan) {
        Ok(Orphans { failure: None, .. }) => {}
        Ok(Orphans {
            failure: Some(why), ..
        }) => fail("orphan-maker", 1, &format!("stopped early: {why}")),
        Err(why) => fail("orphan-maker", 1, &why),
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

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut counting = Counting::default();
    let mut leave = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Short('n') => counting.orphans = bounds::count(parser.value(), 1, 1000)?,
            Long("one-by-one") => counting.one_by_one = true,
            Long("settle") => counting.settle = bounds::seconds(parser.value(), 10.0)?,
            Long("hold") => counting.hold = bounds::seconds(parser.value(), 600.0)?,
            Long("format") => counting.json = cli::json_or_text(parser.value())?,
            Long("leave") => leave = Some(bounds::count(parser.value(), 1, 100_000)? as usize),
            other => return cli::other(other),
        }
    }
    match leave {
        None => Ok(Request::Run(Options::Count(counting))),
        Some(_) if counting != Counting::default() => {
            Err("--leave makes orphans and exits: it takes no other option".into())
        }
        Some(count) => Ok(Request::Run(Options::Leave(count))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn counting_by_default_leaving_on_request() {
        assert_eq!(options(parse, &[]), Options::Count(Counting::default()));
        let Options::Count(counting) = options(
            parse,
            &[
                "-n",
                "7",
                "--one-by-one",
                "--settle",
                "0.1",
                "--hold",
                "2",
                "--format",
                "json",
            ],
        ) else {
            panic!("not counting")
        };
        assert_eq!(counting.orphans, 7);
        assert!(counting.one_by_one);
        assert_eq!(counting.settle, Duration::from_millis(100));
        assert_eq!(counting.hold, Duration::from_secs(2));
        assert!(counting.json);
        assert_eq!(options(parse, &["--leave", "20000"]), Options::Leave(20000));
        help_and_version(parse);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        for (args, reason) in [
            (&["-n", "0"][..], "whole number"),
            (&["-n", "1001"], "whole number"),
            (&["--settle", "11"], "seconds"),
            (&["--format", "xml"], "text or json"),
            (&["--leave", "100001"], "whole number"),
            (&["--leave", "3", "-n", "4"], "no other option"),
            (&["--leave", "3", "--one-by-one"], "no other option"),
            (&["extra"], "unexpected"),
            (&["--bogus"], "--bogus"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
