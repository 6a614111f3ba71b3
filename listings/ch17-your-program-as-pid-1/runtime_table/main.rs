//! `runtime-table`: what the runtimes readers ship do as PID 1, measured.
//! Chapter 17 runs it.
//!
//! Each row starts the chapter's application, written in the runtime's
//! language, as PID 1 of a new PID namespace (or of a Docker container),
//! reads how PID 1 treats SIGTERM and SIGCHLD and counts the zombies once
//! the application is ready, and stops it the way `docker stop -t 2` does
//! (`orphans::namespace::stop`, chapter 9).

mod look;
mod probes;
mod rows;

use std::ffi::OsString;
use std::time::Duration;

use orphans::capability;
use orphans::capability::image_or_missing;
use orphans::cli::bounds;
use orphans::cli::{self, Request};
use orphans::missing::{failed_line, NotShown};
use orphans::namespace::stop::{docker_stop_looking, stop_looking, Outcome, Plan};
use orphans::process::spawn::sibling;
use orphans::table;

use look::{look_at, Seen};
use orphans::process::signals::Disposition;
use rows::{Folder, Row, APP_SH, RUNTIMES, WRAPPERS};

const USAGE: &str = "\
usage: runtime-table [--foster | --sigchld | --docker | --probes N]
                     [--grace SECONDS] [--only PREFIX]...

Runs chapter 17's application under each runtime this machine has
(python3, node, java, perl, bash, dash, busybox sh) and behind the
wrappers people put in front of them (npm start, sh -c, an entrypoint
script), each as PID 1 of a new PID namespace, and prints a markdown
table: how PID 1 treats SIGTERM, how a `docker stop`-style stop went, and
how many zombies were left. A runtime that is missing gets one line.

  --foster         the same rows, each under `foster --`
  --sigchld        the runtimes' apps with --ignore-sigchld: what
                   SIG_IGN for SIGCHLD changes
  --docker         busybox sh in the book's image: alone, with `docker
                   run --init`, and under foster
  --probes N       N exec probes (docker exec) that each leave an orphan,
                   against a `sleep` PID 1: alone, with --init, and with
                   each probe under foster (at most 1000)
  --grace SECONDS  time between SIGTERM and SIGKILL (default 2, at most
                   30; with --docker at least 1)
  --only PREFIX    only the rows whose command starts with PREFIX
                   (`--only python3`, `--only 'sh -c'`); repeatable
  -V, --version    show the version
  -h, --help       show this help";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Table {
    Alone,
    Foster,
    Sigchld,
    Docker,
    Probes(u32),
}

#[derive(Debug, PartialEq)]
struct Options {
    table: Table,
    grace: Duration,
    /// `--only`: prefixes of the rows' commands; empty for every row.
    only: Vec<String>,
}

impl Options {
    /// The rows of `rows` that `--only` selects.
    fn selected<'r>(&self, rows: impl IntoIterator<Item = &'r Row>) -> Vec<&'r Row> {
        rows.into_iter()
            .filter(|row| {
                self.only.is_empty() || self.only.iter().any(|p| row.label.starts_with(p.as_str()))
            })
            .collect()
    }
}

fn main() {
    let options = cli::options_or_exit("runtime-table", USAGE, parse);
    // A component this machine lacks makes one line instead of the table
    // (or of one row); a measurement that goes wrong in every row is an
    // error (on stderr, exit status 1).
    let shown = match options.table {
        Table::Alone => alone_table(&options),
        Table::Foster => foster_table(&options),
        Table::Sigchld => sigchld_table(&options),
        Table::Docker => docker_table(options.grace),
        Table::Probes(count) => probes_table(count),
    };
    orphans::missing::finish("runtime-table", "This table", shown);
}

/// Runs `before`, the row's command, and `after` as PID 1 of a new PID
/// namespace, in the chapter's folder, and stops it after a look.
fn measure(
    row: &Row,
    before: &[&str],
    after: &[&str],
    grace: Duration,
) -> Result<(Outcome, Seen), String> {
    eprintln!("runtime-table: {}", row.label);
    let words = before.iter().chain(row.command).chain(after);
    stop_looking(&plan(words, grace), look_at)
}

/// The plan for a stop of `words` with `grace`, once the application has
/// noted that it is ready.
fn plan<'w>(words: impl Iterator<Item = &'w &'w str>, grace: Duration) -> Plan {
    Plan {
        container: sibling("container"),
        command: words.map(OsString::from).collect(),
        grace,
        ready: 1,
    }
}

/// Prints the line `row_line` makes for each row that this machine can
/// run, under `header` (printed before the first of them); the rows it
/// cannot run, or that failed, get one line each after the table. Returns
/// the rows that ran with what they made.
fn table_of<'r, T>(
    header: &str,
    rows: Vec<&'r Row>,
    mut row_line: impl FnMut(&Row) -> Result<(String, T), String>,
) -> Result<Vec<(&'r Row, T)>, NotShown> {
    capability::namespaces()?;
    let mut folder = Folder::new()?;
    let (mut ran, mut notes) = (Vec::new(), Vec::new());
    for row in rows {
        let what = format!("The row for `{}`", row.label);
        if let Some(missing) = row.missing() {
            notes.push(missing.line(&what));
            continue;
        }
        match folder.prepare(row).and_then(|()| row_line(row)) {
            Ok((line, kept)) => {
                if ran.is_empty() {
                    println!("{header}");
                }
                println!("{line}");
                ran.push((row, kept));
            }
            Err(e) => {
                eprintln!("runtime-table: {}: {e}", row.label);
                notes.push(failed_line(&what, &e));
            }
        }
    }
    for (n, note) in notes.iter().enumerate() {
        // A blank line between paragraphs, and after the table.
        if n > 0 || !ran.is_empty() {
            println!();
        }
        println!("{note}");
    }
    Ok(ran)
}

/// The runtimes and the wrappers, each as PID 1.
fn alone_table(options: &Options) -> Result<(), NotShown> {
    let grace = options.grace;
    let header = table::header(&pid1_headings("command"));
    let rows = options.selected(RUNTIMES.iter().chain(&WRAPPERS));
    let ran = table_of(&header, rows, |row| {
        let (outcome, seen) = measure(row, &[], &[], grace)?;
        Ok((as_pid1_row(row.label, &outcome, &seen, grace), seen.helper))
    })?;
    if ran.is_empty() {
        return Ok(());
    }
    println!("\n{}", helper_sentence(&ran));
    if let Some(versions) = versions_sentence(ran.iter().map(|(row, _)| *row)) {
        println!("\n{versions}");
    }
    Ok(())
}

/// The same rows, each under `foster --`.
fn foster_table(options: &Options) -> Result<(), NotShown> {
    let grace = options.grace;
    let header = table::header(&["command", "stop", "exit status", "zombies left"]);
    let rows = options.selected(RUNTIMES.iter().chain(&WRAPPERS));
    table_of(&header, rows, |row| {
        let (outcome, seen) = measure(row, &["foster", "--"], &[], grace)?;
        let line = table::row(&[
            format!("`foster -- {}`", row.label),
            outcome.took_cell(grace),
            outcome.status.to_string(),
            seen.zombies.to_string(),
        ]);
        Ok((line, ()))
    })?;
    Ok(())
}

/// The runtimes whose app can ask for SIG_IGN, asking for it.
fn sigchld_table(options: &Options) -> Result<(), NotShown> {
    let header = table::header(&[
        "command",
        "SIGCHLD at PID 1",
        "zombies left",
        "`exit 3` read as",
    ]);
    let rows = options.selected(
        RUNTIMES
            .iter()
            .filter(|row| !row.ignores_sigchld.is_empty()),
    );
    // Only the look matters here: the stop may be quick.
    let grace = Duration::from_millis(100);
    table_of(&header, rows, |row| {
        let (_, seen) = measure(row, &[], &["--ignore-sigchld"], grace)?;
        let line = table::row(&[
            format!("`{} --ignore-sigchld`", row.label),
            disposition(seen.sigchld),
            seen.zombies.to_string(),
            seen.helper.map_or("?".into(), |status| status.to_string()),
        ]);
        Ok((line, ()))
    })?;
    Ok(())
}

/// How the image's busybox sh runs the app: it writes the script to a
/// file first (nothing is mounted), then runs it, as `sh app.sh` would.
const WRITE_AND_RUN: &str = "printf '%s' \"$1\" > /app.sh && exec sh /app.sh";

/// busybox sh in the book's image: alone, with `--init`, under foster.
fn docker_table(grace: Duration) -> Result<(), NotShown> {
    let image = image_or_missing()?.reference;
    let cases: [(&str, &[&str], &[&str]); 3] = [
        ("IMAGE sh app.sh", &[], &[]),
        ("--init IMAGE sh app.sh", &["--init"], &[]),
        ("IMAGE foster -- sh app.sh", &[], &["foster", "--"]),
    ];
    println!("{}", table::header(&pid1_headings("`docker run`")));
    for (label, options, before) in cases {
        eprintln!("runtime-table: docker run {label}");
        let words = before
            .iter()
            .chain(&["sh", "-c", WRITE_AND_RUN, "sh", APP_SH]);
        let (outcome, seen) = docker_stop_looking(&image, options, &plan(words, grace), look_at)?;
        println!("{}", as_pid1_row(label, &outcome, &seen, grace));
    }
    Ok(())
}

/// Kubernetes' exec probes: `count` of them in each case.
fn probes_table(count: u32) -> Result<(), NotShown> {
    let found = probes::measure(count, rows::PROBE_SH)?;
    let zombies = format!("zombies after {count} probes");
    println!(
        "{}",
        table::header(&["container's PID 1", "each probe runs", &zombies])
    );
    for case in found {
        let cells = [
            format!("`{}`", case.pid1),
            format!("`{}`", case.probe),
            case.zombies.to_string(),
        ];
        println!("{}", table::row(&cells));
    }
    Ok(())
}

/// The headings of a table of commands run as PID 1, the first one
/// `first`.
fn pid1_headings(first: &str) -> [&str; 6] {
    [
        first,
        "PID 1",
        "SIGTERM at PID 1",
        "stop",
        "exit status",
        "zombies left",
    ]
}

/// The row of a command run as PID 1, under [`pid1_headings`].
fn as_pid1_row(command: &str, outcome: &Outcome, seen: &Seen, grace: Duration) -> String {
    table::row(&[
        format!("`{command}`"),
        format!("`{}`", seen.pid1),
        disposition(seen.sigterm),
        outcome.took_cell(grace),
        outcome.status.to_string(),
        seen.zombies.to_string(),
    ])
}

/// A disposition as a cell.
fn disposition(disposition: Option<Disposition>) -> String {
    match disposition {
        Some(Disposition::Caught) => "caught",
        Some(Disposition::Blocked) => "blocked",
        Some(Disposition::Awaited) => "waited for",
        Some(Disposition::Ignored) => "ignored",
        Some(Disposition::Default) => "default",
        None => "?",
    }
    .to_string()
}

/// The sentence on what each application read for its helper's `exit 3`.
fn helper_sentence(ran: &[(&Row, Option<i32>)]) -> String {
    let odd: Vec<String> = ran
        .iter()
        .filter(|(_, status)| *status != Some(3))
        .map(|(row, status)| {
            let status = status.map_or("nothing".into(), |s| s.to_string());
            format!("`{}` ({status})", row.label)
        })
        .collect();
    if odd.is_empty() {
        format!(
            "In all {} rows the application read its helper's exit status as 3.",
            ran.len()
        )
    } else {
        format!(
            "The application read its helper's exit status as 3, except in: {}.",
            odd.join(", ")
        )
    }
}

/// The versions of the runtimes that ran, as they state them, up to the
/// first word in parentheses (busybox adds its build).
fn versions_sentence<'r>(rows: impl Iterator<Item = &'r Row>) -> Option<String> {
    let versions: Vec<String> = rows
        .filter_map(|row| {
            let version = row.version()?;
            let short: Vec<&str> = version
                .split_whitespace()
                .take_while(|word| !word.starts_with('('))
                .collect();
            Some(format!("`{}`: {}", row.command[0], short.join(" ")))
        })
        .collect();
    (!versions.is_empty()).then(|| format!("The versions measured: {}.", versions.join("; ")))
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        table: Table::Alone,
        grace: Duration::from_secs(2),
        only: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("foster") => options.table = Table::Foster,
            Long("sigchld") => options.table = Table::Sigchld,
            Long("docker") => options.table = Table::Docker,
            Long("probes") => {
                options.table = Table::Probes(bounds::count(parser.value(), 1, 1000)?);
            }
            Long("grace") => options.grace = bounds::seconds(parser.value(), 30.0)?,
            Long("only") => options.only.push(cli::text(parser.value())?),
            other => return cli::other(other),
        }
    }
    match options.table {
        Table::Docker | Table::Probes(_) if !options.only.is_empty() => {
            Err("--only selects rows of the runtimes' tables, not of --docker or --probes".into())
        }
        Table::Docker => bounds::docker_grace(options.grace).map(|_| Request::Run(options)),
        _ => Ok(Request::Run(options)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn a_table_and_a_grace() {
        for (args, table, grace) in [
            (&[][..], Table::Alone, 2.0),
            (&["--foster", "--grace", "0.5"], Table::Foster, 0.5),
            (&["--sigchld"], Table::Sigchld, 2.0),
            (&["--docker", "--grace", "1"], Table::Docker, 1.0),
            (&["--probes", "100"], Table::Probes(100), 2.0),
        ] {
            let grace = Duration::from_secs_f64(grace);
            let only = Vec::new();
            assert_eq!(
                options(parse, args),
                Options { table, grace, only },
                "{args:?}"
            );
        }
        let picked = options(parse, &["--only", "python3", "--only", "sh -c"]);
        let labels: Vec<&str> = picked
            .selected(RUNTIMES.iter().chain(&WRAPPERS))
            .iter()
            .map(|row| row.label)
            .collect();
        assert_eq!(labels, ["python3 app.py", "sh -c \"python3 app.py\""]);
        help_and_version(parse);
        for (args, reason) in [
            (&["--grace", "31"][..], "seconds"),
            (&["--docker", "--grace", "0.5"], "whole seconds"),
            (&["--probes", "0"], "whole number"),
            (&["--probes", "1001"], "whole number"),
            (&["--docker", "--only", "sh"], "--only"),
            (&["--bogus"], "--bogus"),
            (&["extra"], "unexpected"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }

    #[test]
    fn the_helper_sentence_names_the_odd_rows() {
        let (python, perl) = (&RUNTIMES[0], &RUNTIMES[3]);
        assert_eq!(
            helper_sentence(&[(python, Some(3)), (perl, Some(3))]),
            "In all 2 rows the application read its helper's exit status as 3."
        );
        let sentence = helper_sentence(&[(python, Some(0)), (perl, None)]);
        assert!(sentence.contains("`python3 app.py` (0)"), "{sentence}");
        assert!(sentence.contains("`perl app.pl` (nothing)"), "{sentence}");
    }
}
