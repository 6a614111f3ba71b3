//! `pid1-doctor`: is your container affected? Looks at PID 1 of running
//! Docker or Podman containers from the host's `/proc`, or at a
//! Dockerfile, and says whether orphans will pile up as zombies and
//! whether the engine's stop will wait for its SIGKILL, with the chapter of
//! the book that explains it and the fix. Chapter 18.

mod container;
mod context;
mod dockerfile;
mod engines;
mod hostproc;
mod inits;
mod orphan_test;
mod report;
mod rules;
mod script;
mod signals;
mod verdict;

use std::ffi::OsString;
use std::path::PathBuf;

use orphans::cli::{self, Request};

const USAGE: &str = "\
usage: pid1-doctor [--engine docker|podman] [--orphan-test] [--json] CONTAINER...
       pid1-doctor [--engine docker|podman] [--orphan-test] [--json] --all
       pid1-doctor [--json] --dockerfile PATH

Is your container affected? For each running container (Docker or Podman,
by name or ID) the doctor reads PID 1 in the host's /proc and says whether
orphans will pile up as zombies and whether `docker stop` will wait for
its SIGKILL, with the chapter of the book that explains it and the fix.
It shows PID 1's command line; whether PID 1 is a known init (tini or
docker-init, dumb-init, catatonit, foster, s6-svscan, systemd) and in
which mode; what PID 1 does with the container's stop signal (its
StopSignal, SIGTERM by default): caught, blocked, ignored or default; the
zombies of the container's PID namespace now, each with its parent; and
whether PID 1 is a shell with the application as its child (shell form).

  --all              every running container
  --engine NAME      docker or podman (default: each of them whose command
                     is on $PATH, Docker first)
  --orphan-test      leave one orphan in the container's PID namespace and
                     see whether PID 1 reaps it; if it does not, that one
                     zombie stays until the container ends
  --dockerfile PATH  the Dockerfile instead, with its build context (its
                     folder): CMD or ENTRYPOINT in the shell form, an
                     entrypoint script whose last command runs without
                     exec, no init and nothing saying --init is used; each
                     with its file and line
  --json             a JSON array (one object per container), or one
                     object for a Dockerfile
  -V, --version      show the version
  -h, --help         show this help

Exit status: 0 fine, 1 a problem found, 2 a usage error or a container or
file the doctor cannot read (one line on stderr says which). The host's
/proc shows another user's processes only to root: run it with sudo.";

/// `println!` that does not panic when stdout is closed (`pid1-doctor
/// --all | head -1`): what is left unsaid has no reader.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Exit status when a problem was found.
const PROBLEM: i32 = 1;

/// What to look at.
#[derive(Debug, PartialEq)]
enum Target {
    Containers(Vec<String>),
    All,
    Dockerfile(PathBuf),
}

#[derive(Debug, PartialEq)]
struct Options {
    target: Target,
    engine: Option<String>,
    orphan_test: bool,
    json: bool,
}

fn main() {
    let options = cli::options_or_exit("pid1-doctor", USAGE, parse);
    let status = match &options.target {
        Target::Dockerfile(path) => dockerfile(path, options.json),
        Target::All | Target::Containers(_) => containers(&options),
    };
    std::process::exit(status);
}

/// `--dockerfile PATH`: prints the findings, returns the exit status.
fn dockerfile(path: &std::path::Path, json: bool) -> i32 {
    match rules::check_file(path) {
        Err(why) => {
            eprintln!("pid1-doctor: {why}");
            cli::USAGE_ERROR
        }
        Ok(found) => {
            if json {
                say!("{}", report::dockerfile_json(path, &found));
            } else {
                say!("{}", report::dockerfile_text(&found));
            }
            if found.findings.is_empty() {
                0
            } else {
                PROBLEM
            }
        }
    }
}

/// The containers: prints a report on each it can read, one line on
/// stderr for each it cannot; returns the worst exit status.
fn containers(options: &Options) -> i32 {
    let engines = match engines::candidates(options.engine.as_deref()) {
        Ok(engines) => engines,
        Err(why) => cli::fail("pid1-doctor", cli::USAGE_ERROR, &why),
    };
    let names = match &options.target {
        Target::Containers(names) => names.clone(),
        _ => all_running(&engines),
    };
    let mut worst = 0;
    let mut reports = Vec::new();
    for name in &names {
        match diagnose(&engines, name, options.orphan_test) {
            Ok((inspected, facts, judgement)) => {
                if judgement.verdict != verdict::Verdict::Fine {
                    worst = worst.max(PROBLEM);
                }
                if options.json {
                    reports.push(report::json(&inspected, &facts, &judgement));
                } else {
                    let gap = if reports.is_empty() { "" } else { "\n" };
                    say!("{gap}{}", report::text(&inspected, &facts, &judgement));
                    reports.push(serde_json::Value::Null);
                }
            }
            Err(why) => {
                eprintln!("pid1-doctor: {why}");
                worst = cli::USAGE_ERROR;
            }
        }
    }
    if options.json {
        say!("{}", serde_json::Value::Array(reports));
    } else if names.is_empty() {
        say!("no running containers");
    }
    worst
}

/// Every running container of the engines that answer (an engine that
/// does not is skipped with one line on stderr, unless none answers).
fn all_running(engines: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    let mut complaints = Vec::new();
    for &program in engines {
        match engines::running(program) {
            Ok(ids) => names.extend(ids),
            Err(why) => complaints.push(why),
        }
    }
    if names.is_empty() && complaints.len() == engines.len() {
        cli::fail("pid1-doctor", cli::USAGE_ERROR, &complaints.join("; "));
    }
    for complaint in complaints {
        eprintln!("pid1-doctor: skipped: {complaint}");
    }
    names
}

/// Everything about one container: what its engine says, what the host's
/// /proc shows, the orphan test if asked for, and the verdict.
fn diagnose(
    engines: &[&'static str],
    name: &str,
    orphan_test: bool,
) -> Result<(container::Inspected, verdict::Facts, verdict::Judgement), String> {
    let (engine, inspected) = engines::find(engines, name)?;
    let mut facts = container::examine(engine, &inspected)?;
    if orphan_test {
        facts.orphan_test = Some(match orphan_test::run(facts.pid1.host_pid)? {
            orphan_test::Outcome::Reaped { milliseconds } => {
                verdict::OrphanTest::Reaped { milliseconds }
            }
            orphan_test::Outcome::Stayed {
                host_pid,
                milliseconds,
            } => verdict::OrphanTest::Stayed {
                pid: hostproc::pid_inside(host_pid).unwrap_or(0),
                milliseconds,
            },
        });
    }
    let judgement = verdict::judge(&facts);
    Ok((inspected, facts, judgement))
}

/// The options of a command line, or why it cannot be understood: a pure
/// function, so that its unit tests run nothing.
fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        target: Target::Containers(Vec::new()),
        engine: None,
        orphan_test: false,
        json: false,
    };
    let mut names = Vec::new();
    let mut all = false;
    let mut dockerfile = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("all") => all = true,
            Long("engine") => {
                let name = cli::text(parser.value())?;
                engines::candidates(Some(&name))?;
                options.engine = Some(name);
            }
            Long("orphan-test") => options.orphan_test = true,
            Long("json") => options.json = true,
            Long("dockerfile") => {
                dockerfile = Some(PathBuf::from(parser.value().map_err(cli::error)?))
            }
            Value(name) => names.push(
                name.into_string()
                    .map_err(|n| format!("not a container name: {}", n.to_string_lossy()))?,
            ),
            other => return cli::other(other),
        }
    }
    options.target = match (dockerfile, all, names.is_empty()) {
        (Some(path), false, true) if !options.orphan_test && options.engine.is_none() => {
            Target::Dockerfile(path)
        }
        (Some(_), _, _) => {
            return Err("--dockerfile takes no container, --all, --engine or --orphan-test".into())
        }
        (None, true, true) => Target::All,
        (None, true, false) => return Err("name containers or give --all, not both".into()),
        (None, false, true) => {
            return Err("name a container, or give --all or --dockerfile PATH".into())
        }
        (None, false, false) => Target::Containers(names),
    };
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn containers_all_or_a_dockerfile() {
        let parsed = options(parse, &["--engine", "podman", "--json", "web", "db"]);
        assert_eq!(
            parsed.target,
            Target::Containers(vec!["web".into(), "db".into()])
        );
        assert_eq!(parsed.engine.as_deref(), Some("podman"));
        assert!(parsed.json && !parsed.orphan_test);
        assert_eq!(
            options(parse, &["--all", "--orphan-test"]).target,
            Target::All
        );
        assert_eq!(
            options(parse, &["--dockerfile", "Dockerfile"]).target,
            Target::Dockerfile("Dockerfile".into())
        );
        help_and_version(parse);
        for (args, reason) in [
            (&[][..], "name a container"),
            (&["--all", "web"], "not both"),
            (&["--dockerfile", "D", "web"], "--dockerfile takes"),
            (
                &["--dockerfile", "D", "--orphan-test"],
                "--dockerfile takes",
            ),
            (&["--engine", "lxc", "web"], "docker or podman"),
            (&["--engine"], "missing argument"),
            (&["--bogus"], "--bogus"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
