//! `stop-table`: stops several workloads the way `docker stop` does and
//! prints one markdown table row for each.

use std::ffi::OsString;
use std::time::Duration;

use orphans::bounds;
use orphans::cli::{fail, usage_error};
use orphans::spawn::{namespaces_unavailable, sibling, words};
use orphans::stop::{stop, workers_in, Outcome, Plan};

const USAGE: &str = "\
usage: stop-table [--grace SECONDS] [--] COMMAND...

For each COMMAND (one argument; words separated by spaces, no quoting),
runs it as PID 1 of a new PID namespace and stops it like `docker stop -t
GRACE` (see `stopper`), then prints a markdown table: who was running,
who noted SIGTERM, how long the stop took, and PID 1's exit status. The
book's programs are found first in $PATH.

  --grace SECONDS  time between SIGTERM and SIGKILL (default 2, at most 60)
  -h, --help       show this help";

fn main() {
    let (grace, rows) = parse_arguments();
    if let Some(reason) = namespaces_unavailable() {
        println!("*Not run here: {reason}.*");
        return;
    }
    println!("| PID 1 runs | processes | noted SIGTERM | gone after | PID 1's exit status |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let command: Vec<OsString> = words(&row).into_iter().map(OsString::from).collect();
        let plan = Plan {
            container: sibling("container"),
            ready: workers_in(&command),
            command,
            grace,
        };
        let outcome = stop(&plan).unwrap_or_else(|e| fail("stop-table", 1, &format!("{row}: {e}")));
        println!("{}", table_row(&row, &outcome, grace));
    }
}

fn table_row(row: &str, outcome: &Outcome, grace: Duration) -> String {
    let heard = outcome.who_heard_sigterm();
    let how = if outcome.killed {
        format!("SIGKILL after the {} s grace", grace.as_secs_f64())
    } else {
        "ended on SIGTERM".to_string()
    };
    format!(
        "| `{row}` | {} | {heard} | {:.2} s ({how}) | {} |",
        outcome.running.join(", "),
        outcome.took.as_secs_f64(),
        describe_status(outcome.status)
    )
}

/// 137 → "137 (SIGKILL)", as a reader wants to see it.
fn describe_status(status: i32) -> String {
    match nix::sys::signal::Signal::try_from(status - 128) {
        Ok(signal) if status > 128 => format!("{status} ({})", signal.as_str()),
        _ => status.to_string(),
    }
}

fn parse_arguments() -> (Duration, Vec<String>) {
    use lexopt::prelude::*;
    let mut grace = Duration::from_secs(2);
    let mut rows = Vec::new();
    let mut parser = lexopt::Parser::from_env();
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("stop-table", error, USAGE) };
    loop {
        match parser.next() {
            Ok(Some(Short('h') | Long("help"))) => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Ok(Some(Long("grace"))) => {
                grace = bounds::seconds(parser.value(), 60.0).unwrap_or_else(|e| bad(&e))
            }
            Ok(Some(Value(row))) => match row.into_string() {
                Ok(row) if !words(&row).is_empty() => rows.push(row),
                _ => bad(&"each COMMAND must be non-empty UTF-8"),
            },
            Ok(Some(other)) => bad(&other.unexpected()),
            Ok(None) => break,
            Err(error) => bad(&error),
        }
    }
    if rows.is_empty() {
        bad(&"no command given");
    }
    (grace, rows)
}
