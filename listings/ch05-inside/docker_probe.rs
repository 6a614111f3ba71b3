//! `docker-probe`: the probe as PID 1 of a real Docker container, as the
//! original note ran it, plus the host's view of the same processes.

use std::ffi::OsString;
use std::path::Path;

use orphans::capability;
use orphans::cli::{self, fail, Request};
use orphans::containers::docker::{engine_version, run_watched};
use orphans::containers::image::{ensure_image, Image};
use orphans::missing::line_for;
use orphans::workspace::project_dir;

const USAGE: &str = "\
usage: docker-probe [--explain] [--or-say-why]

Builds the image orphans:VERSION if needed (see orphans-image), then runs
its static probe as PID 1 of a container, `docker run --rm --network none
IMAGE probe`, with the host's /proc mounted read-only at /host/proc so that
the probe can report host PIDs. While the probe waits to start, asks the
engine for the container's PID 1 as the host sees it (docker inspect).
Prints the command, the probe's table and that PID, in markdown.

  --explain      ask the probe to explain its table
  --or-say-why   when no Docker engine can run containers here, or busybox
                 is missing for the image, print one line that says why and
                 exit 0 (what a book built without Docker needs); not when
                 the environment has ORPHANS_REQUIRE_DOCKER=1
  -V, --version  show the version
  -h, --help     show this help";

#[derive(Debug, Default, PartialEq)]
struct Options {
    explain: bool,
    or_say_why: bool,
}

fn main() {
    let options = cli::options_or_exit("docker-probe", USAGE, parse);
    let project = project_dir();
    let missing = capability::project_image();
    if !missing.is_empty() {
        let line = line_for("The probe under Docker", &missing);
        if options.or_say_why && !docker_required() {
            println!("{line}");
            return;
        }
        fail("docker-probe", 1, &line);
    }
    let ready = engine_version().and_then(|engine| Ok((engine, ensure_image(&project)?)));
    let (engine, image) = ready.unwrap_or_else(|why| fail("docker-probe", 1, &why));
    let report = run_probe_in_docker(&image, &project, options.explain)
        .unwrap_or_else(|e| fail("docker-probe", 1, &e));
    println!(
        "On Docker Engine {engine}, with the image `{}`, it ran:\n\n{report}",
        image.reference
    );
}

/// CI sets `ORPHANS_REQUIRE_DOCKER=1` where an engine runs: then a missing
/// engine or image is an error, never a line in the book.
fn docker_required() -> bool {
    std::env::var("ORPHANS_REQUIRE_DOCKER").as_deref() == Ok("1")
}

/// Runs the image's static probe and returns the markdown report. The
/// command line is shown relative to the project (`$PWD`, as a reader at the
/// repository's root would type it), not with this machine's paths.
fn run_probe_in_docker(image: &Image, project: &Path, explain: bool) -> Result<String, String> {
    // The engine's host's /proc: the one place where host PIDs can be read.
    let options = ["-v", "/proc:/host/proc:ro"];
    let mut probe = vec!["probe", "--host-proc", "/host/proc"];
    if explain {
        probe.push("--explain");
    }
    let run = run_watched(&image.reference, &options, &probe)?;
    let root_host_pid = root_host_pid(&run.stdout);
    let outside = match root_host_pid {
        Some(pid) if pid == run.host_pid_of_pid1 => format!(
            "The engine agrees: just before the probe started, `docker inspect` gave the \
             container's PID 1 as host PID {pid}, the number the probe's root read through \
             `/host/proc`."
        ),
        other => format!(
            "`docker inspect` gave the container's PID 1 as host PID {}, but the probe's root \
             read its host PID as {}: they should be the same process.",
            run.host_pid_of_pid1,
            other.map_or("nothing".to_string(), |p| p.to_string())
        ),
    };
    Ok(format!(
        "```text\n{}\n```\n\n{}\n{outside}",
        run.command_line
            .replace(&project.display().to_string(), "$PWD"),
        run.stdout
    ))
}

/// The host PID in the probe's markdown row for the root (fifth column).
fn root_host_pid(table: &str) -> Option<i32> {
    let row = table.lines().find(|line| line.starts_with("| Root |"))?;
    row.split('|').map(str::trim).nth(5)?.parse().ok()
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("explain") => options.explain = true,
            Long("or-say-why") => options.or_say_why = true,
            other => return cli::other(other),
        }
    }
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn two_switches() {
        assert_eq!(options(parse, &[]), Options::default());
        let both = options(parse, &["--or-say-why", "--explain"]);
        assert!(both.explain && both.or_say_why);
        help_and_version(parse);
        assert!(refusal(parse, &["--bogus"]).contains("--bogus"));
        assert!(refusal(parse, &["--explain=yes"]).contains("--explain"));
    }
}
