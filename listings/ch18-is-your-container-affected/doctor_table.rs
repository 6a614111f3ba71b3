//! `doctor-table`: chapter 18 runs `pid1-doctor` on the book's own
//! containers. Each pattern of chapters 8 to 13 is started from the
//! project's image in Docker; the doctor (the real program, as a reader
//! runs it) looks at it; the table shows what it said; the container is
//! removed.

mod book_containers;

use std::ffi::OsString;
use std::process::Command;

use orphans::capability::{self, Missing, NotShown};
use orphans::cli::{self, Request};
use orphans::engine::Engine;
use orphans::image::image_or_missing;
use orphans::spawn::sibling;
use serde_json::Value;

const USAGE: &str = "\
usage: doctor-table [--orphan-test | --report] [PATTERN...]

Starts the book's containers from the project's image in Docker, runs
pid1-doctor on each (its --json report), and prints a markdown table: the
container, PID 1, its init, what PID 1 does with SIGTERM, the zombies, and
the verdict. Every container is removed afterwards.

Patterns: naive-init, sleep, foster, init, exec-form, shell-form, script
(chapters 8 to 13; default: all of them).

  --orphan-test  run the doctor with --orphan-test, and show its outcome
  --report       print the doctor's own text report on each pattern, as
                 preformatted text, instead of a table
  -V, --version  show the version
  -h, --help     show this help

The doctor reads the containers' processes in the host's /proc: it needs
root.";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Show {
    Table,
    OrphanTest,
    Report,
}

#[derive(Debug, PartialEq)]
struct Options {
    show: Show,
    patterns: Vec<String>,
}

fn main() {
    let options = cli::options_or_exit("doctor-table", USAGE, parse);
    let what = match options.show {
        Show::Report => "The doctor's report",
        _ => "This table",
    };
    capability::finish("doctor-table", what, shown(&options));
}

/// The table (or reports), or why there is none.
fn shown(options: &Options) -> Result<(), NotShown> {
    let image = image_or_missing()?.reference;
    if !nix::unistd::Uid::effective().is_root() {
        return Err(Missing::new(
            "root",
            "the doctor reads the containers' processes in the host's /proc, which are root's",
            "build the book as root",
        )
        .into());
    }
    let engine = Engine::docker();
    match options.show {
        Show::Table => println!("{TABLE}"),
        Show::OrphanTest => println!("{ORPHAN_TABLE}"),
        Show::Report => {}
    }
    for name in &options.patterns {
        let pattern = book_containers::pattern(name).ok_or(format!("no pattern {name}"))?;
        let running = book_containers::start(&engine, &image, &pattern)?;
        eprintln!(
            "doctor-table: pid1-doctor on {} ({})",
            running.name, pattern.name
        );
        match options.show {
            Show::Report => {
                let text = doctor(&["--engine", "docker", &running.name])?;
                println!(
                    "```text\n{}\n```\n",
                    text.trim_end().replace(&running.name, pattern.name)
                );
            }
            show => {
                let mut args = vec!["--engine", "docker", "--json", &running.name];
                if show == Show::OrphanTest {
                    args.insert(0, "--orphan-test");
                }
                let reports: Value = serde_json::from_str(&doctor(&args)?)
                    .map_err(|e| format!("pid1-doctor's JSON: {e}"))?;
                println!("{}", row(pattern.label, &reports[0], show));
            }
        }
    }
    Ok(())
}

const TABLE: &str = "| container | PID 1 | init | SIGTERM at PID 1 | zombies now | verdict |\n|---|---|---|---|---|---|";
const ORPHAN_TABLE: &str = "| container | PID 1 | zombies now | the doctor's test orphan | verdict |\n|---|---|---|---|---|";

// ANCHOR: doctor
/// Runs `pid1-doctor ARGS` and returns what it printed; a status of 2 (it
/// could not read the container) is an error, with its one line.
fn doctor(args: &[&str]) -> Result<String, String> {
    let output = Command::new(sibling("pid1-doctor"))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run pid1-doctor: {e}"))?;
    match output.status.code() {
        Some(0 | 1) => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        _ => Err(capability::one_line(&String::from_utf8_lossy(
            &output.stderr,
        ))),
    }
}
// ANCHOR_END: doctor

/// One row, from the doctor's JSON report.
fn row(label: &str, report: &Value, show: Show) -> String {
    let text = |value: &Value| value.as_str().unwrap_or("?").to_string();
    let zombies = match report["zombies"].as_array().map_or(0, Vec::len) {
        0 => "none".to_string(),
        n => format!("{n}, of PID {}", report["zombies"][0]["parent"]),
    };
    let chapters: Vec<String> = report["chapters"].as_array().map_or(Vec::new(), |list| {
        list.iter().map(Value::to_string).collect()
    });
    let verdict = match chapters.as_slice() {
        [] => text(&report["summary"]),
        [one] => format!("{} (chapter {one})", text(&report["summary"])),
        [first @ .., last] => format!(
            "{} (chapters {} and {last})",
            text(&report["summary"]),
            first.join(", ")
        ),
    };
    let pid1 = format!("`{}`", text(&report["pid1"]["comm"]));
    match show {
        Show::OrphanTest => {
            let test = &report["orphan_test"];
            let outcome = if test["reaped"] == true {
                format!("reaped within {} ms", test["milliseconds"])
            } else {
                format!("still a zombie after {} ms", test["milliseconds"])
            };
            format!("| {label} | {pid1} | {zombies} | {outcome} | {verdict} |")
        }
        _ => {
            let init = report["init"]["name"].as_str().unwrap_or("none");
            let sigterm = text(&report["stop_disposition"]);
            format!("| {label} | {pid1} | {init} | {sigterm} | {zombies} | {verdict} |")
        }
    }
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        show: Show::Table,
        patterns: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("orphan-test") => options.show = Show::OrphanTest,
            Long("report") => options.show = Show::Report,
            Value(name) => {
                let name = name.to_string_lossy().into_owned();
                if book_containers::pattern(&name).is_none() {
                    return Err(format!("no pattern '{name}'"));
                }
                options.patterns.push(name);
            }
            other => return cli::other(other),
        }
    }
    if options.patterns.is_empty() {
        options.patterns = book_containers::patterns()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
    }
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn patterns_and_what_to_show() {
        assert_eq!(
            options(parse, &[]).patterns.len(),
            book_containers::patterns().len()
        );
        let chosen = options(parse, &["--orphan-test", "sleep", "foster"]);
        assert_eq!(chosen.show, Show::OrphanTest);
        assert_eq!(chosen.patterns, vec!["sleep", "foster"]);
        help_and_version(parse);
        assert!(refusal(parse, &["nginx"]).contains("no pattern"));
    }
}
