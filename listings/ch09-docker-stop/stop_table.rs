//! `stop-table`: stops several workloads the way `docker stop` does and
//! prints one markdown table row for each.

use std::ffi::OsString;
use std::time::Duration;

use orphans::capability::{self, DockerRows};
use orphans::cli::rows::CommandRow;
use orphans::cli::{self, bounds, fail, Request};
use orphans::namespace::stop::{docker_stop, stop, workers_in, Outcome, Plan};
use orphans::process::spawn::sibling;
use orphans::process::{describe_status, Killable};
use orphans::table;

const USAGE: &str = "\
usage: stop-table [--grace SECONDS] [--] COMMAND...

For each COMMAND (one argument; words separated by spaces, no quoting),
runs it as PID 1 of a new PID namespace and stops it like `docker stop -t
GRACE` (see `stopper`), then prints a markdown table: who was running,
who noted SIGTERM, how long the stop took, and PID 1's exit status. The
book's programs are found first in $PATH.

A COMMAND whose first word is `docker` runs the rest in a real Docker
container instead, stopped by `docker stop`. Its image is the book's
`orphans:VERSION` (see `orphans-image`: the book's programs built static,
FROM scratch), built first if needed. Where no Docker engine
can run it, such a row is left out and one line under the table says why.

  --grace SECONDS  time between SIGTERM and SIGKILL (default 2, at most 60)
  -V, --version    show the version
  -h, --help       show this help";

#[derive(Debug, PartialEq)]
struct Options {
    grace: Duration,
    rows: Vec<CommandRow>,
}

fn main() {
    let options = cli::options_or_exit("stop-table", USAGE, parse);
    if let Err(missing) = capability::namespaces() {
        println!("{}", missing.line("This table"));
        return;
    }
    // The image is built once, before the first row, if a row needs it.
    let docker = DockerRows::for_rows(&options.rows).unwrap_or_else(|e| fail("stop-table", 1, &e));
    let rows: Vec<&CommandRow> = options.rows.iter().filter(|row| docker.runs(row)).collect();
    if !rows.is_empty() {
        println!(
            "{}",
            table::header(&[
                "PID 1 runs",
                "processes",
                "noted SIGTERM",
                "gone after",
                "PID 1's exit status",
            ])
        );
    }
    let mut stopped: Vec<(&CommandRow, Outcome)> = Vec::new();
    for row in rows {
        let command: Vec<OsString> = row.words.iter().map(OsString::from).collect();
        let image = docker.image.as_ref().filter(|_| row.in_docker());
        let plan = Plan {
            container: sibling("container"),
            ready: workers_in(&command),
            command,
            grace: options.grace,
        };
        let outcome = match image {
            Some(image) => docker_stop(image, &plan),
            None => stop(&plan),
        };
        let outcome = outcome.unwrap_or_else(|e| fail("stop-table", 1, &format!("{row}: {e}")));
        println!("{}", table_row(row, &outcome, options.grace));
        stopped.push((row, outcome));
    }
    let compared = docker_against_namespace(&stopped);
    if !compared.is_empty() {
        println!("\n{}", compared.join(" "));
    }
    if let Some(note) = docker.note() {
        println!("\n{note}");
    }
}

fn table_row(row: &CommandRow, outcome: &Outcome, grace: Duration) -> String {
    let heard = outcome.who_heard_sigterm();
    let how = if outcome.killed {
        format!("SIGKILL after the {} s grace", grace.as_secs_f64())
    } else {
        "ended on SIGTERM".to_string()
    };
    let label = match row.in_docker() {
        true => format!("`{}`, under Docker", row.command_line()),
        false => format!("`{}`", row.command_line()),
    };
    table::row(&[
        label,
        outcome.running.join(", "),
        heard,
        format!("{:.2} s ({how})", outcome.took.as_secs_f64()),
        // PID 1 of a namespace stopped from outside: only SIGKILL kills it.
        describe_status(outcome.status, Killable::OnlyBySigkill),
    ])
}

/// For each `docker` row whose command also ran in a namespace of our own,
/// one sentence comparing the two stops: what Docker adds.
fn docker_against_namespace(stopped: &[(&CommandRow, Outcome)]) -> Vec<String> {
    let names = |outcome: &Outcome| -> Vec<String> {
        outcome
            .heard_sigterm
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    };
    let mut sentences = Vec::new();
    for (row, docker) in stopped.iter().filter(|(row, _)| row.in_docker()) {
        let Some((_, own)) = stopped
            .iter()
            .find(|(other, _)| !other.in_docker() && other.words == row.words)
        else {
            continue;
        };
        let more = docker.took.as_secs_f64() - own.took.as_secs_f64();
        let same = if names(docker) == names(own) && docker.status == own.status {
            "the same processes noted SIGTERM, and PID 1 ended with the same status"
        } else {
            "but who noted SIGTERM, or PID 1's status, differs"
        };
        let when = if more >= 0.0 {
            format!("{more:.2} s later")
        } else {
            format!("{:.2} s sooner", -more)
        };
        sentences.push(format!(
            "Under Docker, `{}` was gone {when} than in a namespace of our own (the \
             `docker` command's and the engine's part); {same}.",
            row.command_line()
        ));
    }
    sentences
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut grace = Duration::from_secs(2);
    let mut rows = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("grace") => grace = bounds::seconds(parser.value(), 60.0)?,
            Value(row) => rows.push(CommandRow::parse(row, "COMMAND")?),
            other => return cli::other(other),
        }
    }
    let rows = cli::some_command(rows)?;
    Ok(Request::Run(Options { grace, rows }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn rows_and_a_grace() {
        let o = options(parse, &["sleep 9", "--grace", "0.5", "docker worker"]);
        assert_eq!(o.grace, Duration::from_millis(500));
        let rows: Vec<String> = o.rows.iter().map(ToString::to_string).collect();
        assert_eq!(rows, ["sleep 9", "docker worker"]);
        assert_eq!(options(parse, &["worker"]).grace, Duration::from_secs(2));
        help_and_version(parse);
        for (args, reason) in [
            (&[][..], "no command given"),
            (&[" "], "non-empty"),
            (&["--grace", "61", "worker"], "seconds"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
