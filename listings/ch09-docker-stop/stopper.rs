//! `stopper`: runs a command as PID 1 of a new PID namespace and stops it as
//! `docker stop -t GRACE` stops a container, then reports what happened.

use std::ffi::OsString;
use std::time::Duration;

use orphans::bounds;
use orphans::cli::command_from;
use orphans::cli::{fail, usage_error};
use orphans::spawn::sibling;
use orphans::stop::{stop, workers_in, Outcome, Plan};
use serde_json::json;

const USAGE: &str = "\
usage: stopper [--grace SECONDS] [--ready N] [--format text|json] [--] CMD [ARGS...]

Runs CMD as PID 1 of a new PID namespace (with `container`), waits until
it is ready, sends SIGTERM to PID 1, waits up to the grace period, then
sends SIGKILL, like `docker stop -t GRACE`. Reports how long the namespace
took to die, who noted SIGTERM in the journal ($ORPHANS_JOURNAL, set for
CMD), and PID 1's exit status. The book's programs are found first in
$PATH.

  --grace SECONDS  time between SIGTERM and SIGKILL (default 2, at most 60)
  --ready N        wait for N `ready` lines in the journal before SIGTERM
                   (default: one per word `worker` in CMD)
  --format FORMAT  text (default) or json
  -h, --help       show this help";

fn main() {
    let (plan, json) = parse_arguments();
    let outcome = stop(&plan).unwrap_or_else(|e| fail("stopper", 1, &e));
    if json {
        println!("{}", as_json(&outcome));
    } else {
        print!("{}", as_text(&outcome, plan.grace));
    }
}

fn as_text(outcome: &Outcome, grace: Duration) -> String {
    let heard = outcome.who_heard_sigterm();
    let how = if outcome.killed {
        format!(
            "still running after the {} s grace: SIGKILL",
            grace.as_secs_f64()
        )
    } else {
        "it ended on its own".to_string()
    };
    format!(
        "running when SIGTERM was sent: {}\n\
         noted SIGTERM: {heard}\n\
         gone after {:.3} s ({how})\n\
         PID 1's exit status: {}\n",
        outcome.running.join(", "),
        outcome.took.as_secs_f64(),
        outcome.status
    )
}

fn as_json(outcome: &Outcome) -> serde_json::Value {
    let heard: Vec<_> = outcome
        .heard_sigterm
        .iter()
        .map(|(name, pid)| json!({"name": name, "pid": pid}))
        .collect();
    json!({
        "running": outcome.running,
        "heard_sigterm": heard,
        "seconds": outcome.took.as_secs_f64(),
        "killed": outcome.killed,
        "status": outcome.status,
    })
}

fn parse_arguments() -> (Plan, bool) {
    use lexopt::prelude::*;
    let mut grace = Duration::from_secs(2);
    let mut ready = None;
    let mut json = false;
    let mut command: Vec<OsString> = Vec::new();
    let mut parser = lexopt::Parser::from_env();
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("stopper", error, USAGE) };
    loop {
        match parser.next() {
            Ok(Some(Short('h') | Long("help"))) => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Ok(Some(Long("grace"))) => {
                grace = bounds::seconds(parser.value(), 60.0).unwrap_or_else(|e| bad(&e))
            }
            Ok(Some(Long("ready"))) => {
                ready = Some(bounds::count(parser.value(), 0, 100).unwrap_or_else(|e| bad(&e)))
            }
            Ok(Some(Long("format"))) => match parser.value().map(|v| v.into_string()) {
                Ok(Ok(format)) if format == "json" => json = true,
                Ok(Ok(format)) if format == "text" => json = false,
                Ok(_) => bad(&"--format takes text or json"),
                Err(error) => bad(&error),
            },
            Ok(Some(Value(first))) => {
                command = command_from(first, &mut parser);
                break;
            }
            Ok(Some(other)) => bad(&other.unexpected()),
            Ok(None) => break,
            Err(error) => bad(&error),
        }
    }
    if command.is_empty() {
        bad(&"no command given");
    }
    let ready = ready.map_or_else(|| workers_in(&command), |n| n as usize);
    let plan = Plan {
        container: sibling("container"),
        command,
        grace,
        ready,
    };
    (plan, json)
}
