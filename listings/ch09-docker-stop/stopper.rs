//! `stopper`: runs a command as PID 1 of a new PID namespace and stops it as
//! `docker stop -t GRACE` stops a container, then reports what happened.

use std::ffi::OsString;
use std::time::Duration;

use orphans::cli::bounds;
use orphans::cli::{self, fail, Request};
use orphans::namespace::stop::{stop, workers_in, Outcome, Plan};
use orphans::process::spawn::sibling;
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
  -V, --version    show the version
  -h, --help       show this help";

#[derive(Debug, PartialEq)]
struct Options {
    grace: Duration,
    /// `--ready N`; by default, one per word `worker` in the command.
    ready: Option<usize>,
    json: bool,
    command: Vec<OsString>,
}

fn main() {
    let options = cli::options_or_exit("stopper", USAGE, parse);
    let json = options.json;
    let plan = Plan {
        container: sibling("container"),
        ready: options
            .ready
            .unwrap_or_else(|| workers_in(&options.command)),
        command: options.command,
        grace: options.grace,
    };
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

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        grace: Duration::from_secs(2),
        ready: None,
        json: false,
        command: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("grace") => options.grace = bounds::seconds(parser.value(), 60.0)?,
            Long("ready") => options.ready = Some(bounds::count(parser.value(), 0, 100)? as usize),
            Long("format") => options.json = cli::json_or_text(parser.value())?,
            Value(first) => {
                options.command = cli::some_command(cli::command_from(first, &mut parser)?)?;
                return Ok(Request::Run(options));
            }
            other => return cli::other(other),
        }
    }
    Err("no command given".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn settings_then_the_command() {
        let o = options(
            parse,
            &[
                "--grace",
                "1",
                "--ready",
                "0",
                "--format",
                "json",
                "naive-init",
                "worker",
            ],
        );
        assert_eq!(o.grace, Duration::from_secs(1));
        assert_eq!(o.ready, Some(0));
        assert!(o.json);
        assert_eq!(o.command, ["naive-init", "worker"]);
        let o = options(parse, &["sleep", "--grace", "9"]);
        assert_eq!(
            (o.grace, o.ready, o.json),
            (Duration::from_secs(2), None, false)
        );
        help_and_version(parse);
        for (args, reason) in [
            (&[][..], "no command given"),
            (&["--grace", "x", "sleep", "1"], "seconds"),
            (&["--ready", "-1", "sleep", "1"], "whole number"),
            (&["--format", "xml", "sleep"], "text or json"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
