//! What this machine can run: one check per component that an experiment or
//! a test needs, shared by the book and the tests.
//!
//! Each check answers `Ok(())` or a [`Missing`] that says, in words for a
//! reader, what is missing, why, and the command that would install or
//! allow it. A chapter prints [`Missing::line`] (one line, starting with
//! [`NOT_RUN`]) instead of a table it could not make; a test prints
//! `skipped: …` (see `tests/common`), or fails where `ORPHANS_REQUIRE_*`
//! asks for the component.
//!
//! Contract for every check: it never panics, never prints, and finishes in
//! bounded time.

use std::fmt;
use std::path::Path;

/// The words every "not run here" line starts with. `.ci/check-book` looks
/// for them: in CI's full environment the book must contain none.
pub const NOT_RUN: &str = "Not run here:";

/// A component an experiment needs and this machine lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The component, as a reader knows it: "a Docker engine", "busybox".
    pub component: String,
    /// Why it is not usable, in a few words (no raw log).
    pub why: String,
    /// The command (or the step) that would provide it.
    pub remedy: String,
}

impl Missing {
    pub fn new(component: &str, why: impl Into<String>, remedy: &str) -> Missing {
        Missing {
            component: component.to_string(),
            why: one_line(&why.into()),
            remedy: remedy.to_string(),
        }
    }

    /// The one line a page shows for `experiment` (what was not run):
    /// `*Not run here: EXPERIMENT needs COMPONENT: WHY. To run it: REMEDY.*`
    pub fn line(&self, experiment: &str) -> String {
        format!("*{NOT_RUN} {experiment} needs {self}.*")
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}. To run it: {}",
            self.component, self.why, self.remedy
        )
    }
}

/// Why a table tool printed no table: a component this machine lacks, or
/// a measurement that went wrong. `?` makes one of either.
#[derive(Debug, PartialEq)]
pub enum NotShown {
    /// The page shows [`Missing::line`] instead of the table.
    Missing(Missing),
    /// An error: the tool says it on stderr and exits with status 1.
    Failed(String),
}

impl From<Missing> for NotShown {
    fn from(missing: Missing) -> NotShown {
        NotShown::Missing(missing)
    }
}

impl From<String> for NotShown {
    fn from(error: String) -> NotShown {
        NotShown::Failed(error)
    }
}

/// What a table tool does once it has tried to print the table of
/// `experiment`: nothing more if it did; else it prints the one line of
/// what is missing (on stdout, for the page), or says what went wrong (on
/// stderr) and exits with status 1.
pub fn finish(program: &str, experiment: &str, shown: Result<(), NotShown>) {
    match shown {
        Ok(()) => {}
        Err(NotShown::Missing(missing)) => println!("{}", missing.line(experiment)),
        Err(NotShown::Failed(error)) => orphans::cli::fail(program, 1, &error),
    }
}

/// The first line of `text`, trimmed and at most 200 characters, so that a
/// tool's error output can never flood a page.
pub fn one_line(text: &str) -> String {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut line: String = first.chars().take(200).collect();
    if first.chars().count() > 200 {
        line.push('…');
    }
    line.trim_end_matches('.').to_string()
}

/// A program that must be on this machine at `path` (a peer init of chapter
/// 12, busybox, chromedriver), and the package that brings it.
pub fn program(path: &str, package: &str) -> Result<(), Missing> {
    if Path::new(path).is_file() {
        Ok(())
    } else {
        Err(Missing::new(
            &format!("`{path}`"),
            "it is not installed",
            &format!("apt-get install {package}"),
        ))
    }
}

// The checks, one per component. Each is a first version that helper work
// on issue 12 makes thorough (a real `docker run`, remembered per build);
// their names and signatures are the contract the chapters code against.

/// PID namespaces: the book's `container` can start `true` as PID 1 of a
/// new namespace (as root, or through a user namespace).
pub fn namespaces() -> Result<(), Missing> {
    match orphans::spawn::namespaces_unavailable() {
        None => Ok(()),
        Some(why) => Err(Missing::new(
            "PID namespaces",
            why,
            "run as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)",
        )),
    }
}

/// A Docker engine that can run the book's containers.
pub fn docker() -> Result<(), Missing> {
    orphans::docker::engine_version()
        .map(drop)
        .map_err(no_docker)
}

/// No Docker engine answers, for the reason `why`.
pub fn no_docker(why: String) -> Missing {
    Missing::new(
        "a Docker engine",
        why,
        "install Docker and start its daemon (apt-get install docker.io)",
    )
}

/// Debian's static busybox, the shell of the project's image.
pub fn busybox() -> Result<(), Missing> {
    program(orphans::image::BUSYBOX, "busybox-static")
}

/// One of the peer inits chapter 12 measures foster against, by path
/// (`/usr/bin/tini-static`) and Debian package (`tini`).
pub fn peer_init(path: &str, package: &str) -> Result<(), Missing> {
    program(path, package)
}

/// How long `podman info` may take, in seconds: its first run on a machine
/// sets up Podman's storage.
const PODMAN_PATIENCE: u64 = 60;

/// Podman: the command is there and answers `podman info` (its storage and
/// OCI runtime are usable). Whether it can run a container here is for
/// `orphans::podman::ready`, which needs the project's image first.
pub fn podman() -> Result<(), Missing> {
    let missing = |why: String| Missing::new("Podman", why, "apt-get install podman");
    let mut info = std::process::Command::new("podman");
    info.args(["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
    let output = output_within(info, PODMAN_PATIENCE).map_err(missing)?;
    if output.status.success() {
        Ok(())
    } else {
        Err(missing(format!(
            "`podman info` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// Runs `command` and returns its output, or kills it after `seconds`, so
/// that a check never hangs a build. For commands that print little: the
/// output is read once the command has exited.
fn output_within(
    mut command: std::process::Command,
    seconds: u64,
) -> Result<std::process::Output, String> {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{program}` cannot be started ({e})"))?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while let Ok(None) = child.try_wait() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`{program}` did not answer within {seconds} s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
        .wait_with_output()
        .map_err(|e| format!("reading what `{program}` said: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_component_makes_one_marked_line() {
        let missing = Missing::new(
            "busybox",
            "no /bin/busybox\nsecond line",
            "apt-get install busybox-static",
        );
        let line = missing.line("The Docker table");
        assert_eq!(
            line,
            "*Not run here: The Docker table needs busybox: no /bin/busybox. To run it: apt-get install busybox-static.*"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn one_line_keeps_the_first_non_empty_line_and_bounds_it() {
        assert_eq!(one_line("\n  error: boom.  \nmore"), "error: boom");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), 201);
    }

    #[test]
    fn a_program_that_is_not_there_is_missing() {
        assert!(program("/no/such/program", "nothing").is_err());
        assert!(program("/bin/sh", "dash").is_ok());
    }

    #[test]
    fn a_command_that_does_not_answer_in_time_is_killed() {
        let mut slow = std::process::Command::new("sleep");
        slow.arg("30");
        let started = std::time::Instant::now();
        assert!(output_within(slow, 1).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let mut quick = std::process::Command::new("echo");
        quick.arg("hi");
        let output = output_within(quick, 5).expect("echo answers");
        assert_eq!(output.stdout, b"hi\n");
    }
}
