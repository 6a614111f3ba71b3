//! `zombie-table`: runs `orphan-maker` under several PID 1 programs, each in
//! a new PID namespace, and prints one markdown table row per PID 1: how
//! many zombies the orphans left behind.

use std::process::Command;

use orphans::bounds;
use orphans::cli::{fail, usage_error};
use orphans::spawn::{dying_with_us, namespaces_unavailable, path_with_siblings, sibling, words};
use serde_json::Value;

const USAGE: &str = "\
usage: zombie-table [-n N] [--settle SECONDS] [--] PID1...

For each PID1 (one argument: a command line, words separated by spaces,
no quoting), runs `container PID1 orphan-maker -n N`, so that PID1 is PID 1
of a new PID namespace and orphan-maker its child, and prints a markdown
table of the zombies left once the N orphans have exited. A PID1 of `-`
runs orphan-maker itself as PID 1. The book's programs are found first in
$PATH.

  -n N              orphans per row (default 5, at most 100)
  --settle SECONDS  how long PID 1 gets to reap them (default 0.5, at most 5)
  -h, --help        show this help";

struct Options {
    orphans: u32,
    settle: String,
    rows: Vec<String>,
}

fn main() {
    let options = parse_arguments();
    if let Some(reason) = namespaces_unavailable() {
        println!("*Not run here: {reason}.*");
        return;
    }
    println!("| PID 1 | orphans that exited | zombies left | the zombies' parent |");
    println!("|---|---|---|---|");
    for row in &options.rows {
        let report = run_row(row, &options)
            .unwrap_or_else(|e| fail("zombie-table", 1, &format!("{row}: {e}")));
        println!("{}", table_row(row, &report));
    }
}

// ANCHOR: row
/// Runs one row: `container [PID1...] orphan-maker -n N --format json`.
fn run_row(row: &str, options: &Options) -> Result<Value, String> {
    let mut command = Command::new(sibling("container"));
    if row != "-" {
        command.args(words(row));
    }
    command.args([
        "orphan-maker",
        "--format",
        "json",
        "--settle",
        &options.settle,
    ]);
    command.args(["-n", &options.orphans.to_string()]);
    let output = dying_with_us(&mut command)
        .env("PATH", path_with_siblings())
        .output()
        .map_err(|e| format!("cannot run container: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("orphan-maker's report: {e}"))
}
// ANCHOR_END: row

fn table_row(row: &str, report: &Value) -> String {
    let pid1 = if row == "-" {
        "none: `orphan-maker` itself".to_string()
    } else {
        format!("`{row}`")
    };
    let zombies = report["zombies"]
        .as_array()
        .map_or(&[][..], |z| z.as_slice());
    let mut parents: Vec<String> = zombies
        .iter()
        .map(|z| {
            format!(
                "PID {} ({})",
                z["parent"],
                z["parent_comm"].as_str().unwrap_or("?")
            )
        })
        .collect();
    parents.dedup();
    let parents = if parents.is_empty() {
        "-".to_string()
    } else {
        parents.join(", ")
    };
    let orphans = report["orphans"].as_array().map_or(0, Vec::len);
    format!("| {pid1} | {orphans} | {} | {parents} |", zombies.len())
}

fn parse_arguments() -> Options {
    use lexopt::prelude::*;
    let mut options = Options {
        orphans: 5,
        settle: "0.5".into(),
        rows: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_env();
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("zombie-table", error, USAGE) };
    loop {
        match parser.next() {
            Ok(Some(Short('h') | Long("help"))) => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Ok(Some(Short('n'))) => {
                options.orphans = bounds::count(parser.value(), 1, 100).unwrap_or_else(|e| bad(&e))
            }
            Ok(Some(Long("settle"))) => {
                let settle = bounds::seconds(parser.value(), 5.0).unwrap_or_else(|e| bad(&e));
                options.settle = settle.as_secs_f64().to_string();
            }
            Ok(Some(Value(row))) => match row.into_string() {
                Ok(row) if !words(&row).is_empty() => options.rows.push(row),
                _ => bad(&"each PID1 must be non-empty UTF-8"),
            },
            Ok(Some(other)) => bad(&other.unexpected()),
            Ok(None) => break,
            Err(error) => bad(&error),
        }
    }
    if options.rows.is_empty() {
        bad(&"no PID1 given");
    }
    options
}
