//! `zombie-table`: runs `orphan-maker` under several PID 1 programs, each in
//! a new PID namespace, and prints one markdown table row per PID 1: how
//! many zombies the orphans left behind.

use std::ffi::OsString;
use std::process::Command;

use orphans::capability::{self, DockerRows};
use orphans::cli::rows::CommandRow;
use orphans::cli::{self, bounds, fail, Request};
use orphans::containers::engine::{unique_name, Engine};
use orphans::process::spawn::{dying_with_us, path_with_siblings, sibling};
use orphans::table;
use serde_json::Value;

const USAGE: &str = "\
usage: zombie-table [-n N] [--settle SECONDS] [--pids-limit N] [--] PID1...

For each PID1 (one argument: a command line, words separated by spaces,
no quoting), runs `container PID1 orphan-maker -n N`, so that PID1 is PID 1
of a new PID namespace and orphan-maker its child, and prints a markdown
table of the zombies left once the N orphans have exited, and of the first
fork that failed, if one did. A PID1 of `-` runs orphan-maker itself as
PID 1. The book's programs are found first in $PATH.

A PID1 whose first word is `docker` runs the rest (or `-`) in a real Docker
container instead, of the book's image `orphans:VERSION` (see `orphans-image`:
the book's programs built static, FROM scratch), built first if needed.
Where no Docker engine can run it, such a row is left out and one line
under the table says why.

  -n N              orphans per row (default 5, at most 100)
  --settle SECONDS  how long PID 1 gets to reap them (default 0.5, at most 5)
  --pids-limit N    for `docker` rows: docker run --pids-limit N
  -V, --version     show the version
  -h, --help        show this help";

#[derive(Debug, PartialEq)]
struct Options {
    orphans: u32,
    settle: String,
    pids_limit: Option<u32>,
    rows: Vec<CommandRow>,
}

fn main() {
    let options = cli::options_or_exit("zombie-table", USAGE, parse);
    if let Err(missing) = capability::namespaces() {
        println!("{}", missing.line("This table"));
        return;
    }
    // The image is built once, before the first row, if a row needs it.
    let docker =
        DockerRows::for_rows(&options.rows).unwrap_or_else(|e| fail("zombie-table", 1, &e));
    let rows: Vec<&CommandRow> = options.rows.iter().filter(|row| docker.runs(row)).collect();
    if !rows.is_empty() {
        println!(
            "{}",
            table::header(&[
                "PID 1",
                "orphans that exited",
                "zombies left",
                "the zombies' parent",
                "a fork failed",
            ])
        );
    }
    let mut verdicts = Verdicts::default();
    for row in rows {
        let command = match &docker.image {
            Some(image) if row.in_docker() => in_docker(&row.words, image, &options),
            _ => in_container(&row.words),
        };
        let report = run_row(command, &options)
            .unwrap_or_else(|e| fail("zombie-table", 1, &format!("{row}: {e}")));
        let label = label(row, &options);
        println!("{}", table_row(&label, &report));
        verdicts.add(
            &label,
            &report,
            options.pids_limit.filter(|_| row.in_docker()),
        );
    }
    for line in verdicts.lines() {
        println!("\n{line}");
    }
    if let Some(note) = docker.note() {
        println!("\n{note}");
    }
}

/// `container PID1...`, the start of a row's command line.
fn in_container(pid1: &[String]) -> Command {
    let mut command = Command::new(sibling("container"));
    command.args(pid1.iter().filter(|word| *word != "-"));
    command
}

/// `docker run --name NAME --network none --rm [--pids-limit N] IMAGE
/// PID1...`.
fn in_docker(pid1: &[String], image: &str, options: &Options) -> Command {
    let docker = Engine::docker();
    let mut command = docker.command(&[]);
    command
        .args(docker.run_args(&unique_name("zombies")))
        .arg("--rm");
    if let Some(limit) = options.pids_limit {
        command.args(["--pids-limit", &limit.to_string()]);
    }
    command.arg(image);
    command.args(pid1.iter().filter(|word| *word != "-"));
    command
}

/// Runs one row: `command` followed by `orphan-maker -n N --format json`.
fn run_row(mut command: Command, options: &Options) -> Result<Value, String> {
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
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if !output.status.success() {
        return Err(format!(
            "failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("orphan-maker's report: {e}"))
}

/// How a row is named in the table.
fn label(row: &CommandRow, options: &Options) -> String {
    let mut label = match row.command_line().as_str() {
        "-" | "" => "none: `orphan-maker` itself".to_string(),
        command => format!("`{command}`"),
    };
    if row.in_docker() {
        label += ", under Docker";
        if let Some(limit) = options.pids_limit {
            label += &format!(" with `--pids-limit {limit}`");
        }
    }
    label
}

fn table_row(label: &str, report: &Value) -> String {
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
    let failure = report["fork_failure"].as_str().unwrap_or("no");
    table::row(&[
        label,
        &orphans.to_string(),
        &zombies.len().to_string(),
        &parents,
        failure,
    ])
}

/// What the rows say, in sentences under the table.
#[derive(Default)]
struct Verdicts {
    /// Rows whose every exited orphan stayed a zombie.
    all_stayed: Vec<String>,
    /// Rows with no zombie left.
    none_stayed: Vec<String>,
    /// One sentence per other row and per fork that failed.
    others: Vec<String>,
}

impl Verdicts {
    /// Notes row `label`'s `report`; `limit` is its `--pids-limit`, if any.
    fn add(&mut self, label: &str, report: &Value, limit: Option<u32>) {
        // A row's label in a sentence: "`orphan-maker` itself as PID 1",
        // "`naive-init` as PID 1, under Docker with `--pids-limit 20`".
        let label = label.strip_prefix("none: ").unwrap_or(label);
        let label = match label.split_once(", under ") {
            Some((who, place)) => format!("{who} as PID 1, under {place}"),
            None => format!("{label} as PID 1"),
        };
        let zombies = report["zombies"].as_array().map_or(0, Vec::len);
        let orphans = report["orphans"].as_array().map_or(0, Vec::len);
        if orphans > 0 && zombies == orphans {
            self.all_stayed.push(label.clone());
        } else if zombies == 0 {
            self.none_stayed.push(label.clone());
        } else {
            self.others.push(format!(
                "With {label}, {zombies} of {orphans} orphans stayed zombies."
            ));
        }
        if let (Some(failure), Some(limit)) = (report["fork_failure"].as_str(), limit) {
            let running = (limit as usize).saturating_sub(zombies);
            self.others.push(format!(
                "With {label}, a fork failed ({failure}) when {zombies} of the {limit} \
                 places were held by zombies, processes that had already finished, and \
                 {running} by processes still running: PID 1, `orphan-maker` and the middle \
                 process that tried to fork."
            ));
        }
    }

    /// The sentences, in the order of the rows' kinds.
    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.all_stayed.is_empty() {
            lines.push(format!(
                "Every orphan that exited stayed a zombie with {}.",
                self.all_stayed.join(" and with ")
            ));
        }
        if !self.none_stayed.is_empty() {
            lines.push(format!(
                "None stayed with {}.",
                self.none_stayed.join(" or with ")
            ));
        }
        lines.extend(self.others.iter().cloned());
        lines
    }
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        orphans: 5,
        settle: "0.5".into(),
        pids_limit: None,
        rows: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Short('n') => options.orphans = bounds::count(parser.value(), 1, 100)?,
            Long("settle") => {
                let settle = bounds::seconds(parser.value(), 5.0)?;
                options.settle = settle.as_secs_f64().to_string();
            }
            Long("pids-limit") => {
                options.pids_limit = Some(bounds::count(parser.value(), 1, 100_000)?)
            }
            Value(row) => options.rows.push(CommandRow::parse(row, "PID1")?),
            other => return cli::other(other),
        }
    }
    if options.rows.is_empty() {
        return Err("no PID1 given".into());
    }
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn rows_and_their_settings() {
        let o = options(
            parse,
            &[
                "-n",
                "3",
                "naive-init",
                "--settle",
                "0.25",
                "docker -",
                "--pids-limit",
                "9",
            ],
        );
        assert_eq!(o.orphans, 3);
        assert_eq!(o.settle, "0.25");
        assert_eq!(o.pids_limit, Some(9));
        let rows: Vec<String> = o.rows.iter().map(ToString::to_string).collect();
        assert_eq!(rows, ["naive-init", "docker -"]);
        help_and_version(parse);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        for (args, reason) in [
            (&[][..], "no PID1 given"),
            (&["-n", "101", "-"], "whole number"),
            (&["--settle", "x", "-"], "seconds"),
            (&["--pids-limit", "0", "-"], "whole number"),
            (&["docker"], "non-empty"),
            (&["--bogus", "-"], "--bogus"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
