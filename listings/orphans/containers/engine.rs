//! One driver for both container engines, Docker and Podman, through their
//! command lines: Podman's takes Docker's verbs and flags (`run`, `create`,
//! `cp`, `start`, `exec`, `logs`, `stop -t`, `inspect`), so one code path
//! drives both, and every step is a command a reader can type. Every
//! `docker` and `podman` command of the library goes through [`Engine`].
//!
//! Every container is hermetic: `--network none` (none of the experiments
//! needs a network, and an engine whose default bridge is broken still
//! runs such containers), and nothing from the client's machine is mounted
//! into it, so the engine may be anywhere. Each is named with the image's
//! name, our PID and a counter ([`unique_name`]), and removed when its
//! [`Container`] is dropped, on error paths too.

use std::ffi::OsString;
use std::fmt;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orphans::missing::bounded;
use orphans::process::deadline::{output_within, poll_until, Failure};

/// The longest any engine command may take unless its caller says
/// otherwise: an engine can hang as well as fail, and a book's build must
/// end.
pub const PATIENCE: Duration = Duration::from_secs(300);

/// Which engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Docker,
    Podman,
}

impl Kind {
    /// The engine's command.
    pub fn program(self) -> &'static str {
        match self {
            Kind::Docker => "docker",
            Kind::Podman => "podman",
        }
    }
}

/// An engine's command, and what every container it makes gets.
#[derive(Clone, Debug)]
pub struct Engine {
    pub kind: Kind,
    /// Options of every `run` and `create`: `--network none`, and
    /// Podman's lower rlimits.
    pub create_options: Vec<String>,
    /// Variables set for every command of the engine (Podman's
    /// `CONTAINERS_CONF`, which its pods need).
    pub environment: Vec<(String, OsString)>,
}

/// Why an engine command gave no answer.
#[derive(Debug)]
pub enum Error {
    /// The command could not be started, or did not end in time.
    NotRun(Failure),
    /// It ran and failed: the verb, and the first line of what it said
    /// (without Podman's `Error: ` in front; runc's errors are long chains
    /// of causes, "a: b: c", so up to 400 characters).
    Failed {
        program: &'static str,
        verb: String,
        said: String,
    },
    /// It succeeded with an answer that is not what was asked for.
    Unexpected { asked: String, answer: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotRun(failure) => failure.fmt(f),
            Error::Failed {
                program,
                verb,
                said,
            } => write!(f, "{program} {verb}: {said}"),
            Error::Unexpected { asked, answer } => {
                write!(f, "{asked} gave '{answer}'")
            }
        }
    }
}

impl From<Error> for String {
    fn from(error: Error) -> String {
        error.to_string()
    }
}

impl Engine {
    /// The Docker engine the `docker` command talks to.
    pub fn docker() -> Engine {
        Engine {
            kind: Kind::Docker,
            create_options: vec!["--network".into(), "none".into()],
            environment: Vec::new(),
        }
    }

    /// The engine's command.
    pub fn program(&self) -> &'static str {
        self.kind.program()
    }

    /// `PROGRAM ARGS` with the engine's variables, not started: for the
    /// callers that need its pipes (a run whose stdin we write, a `save`
    /// piped into a `load`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.program());
        command
            .args(args)
            .envs(self.environment.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs `PROGRAM ARGS` within [`PATIENCE`] and returns its stdout,
    /// trimmed, if it succeeds.
    pub fn run(&self, args: &[&str]) -> Result<String, Error> {
        self.run_within(args, PATIENCE)
    }

    /// [`Engine::run`] within `limit`.
    pub fn run_within(&self, args: &[&str], limit: Duration) -> Result<String, Error> {
        let output = self.output_within(args, limit)?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// Runs `PROGRAM ARGS` within `limit` and returns all it printed, if it
    /// succeeds.
    pub fn output_within(&self, args: &[&str], limit: Duration) -> Result<Output, Error> {
        let output = output_within(&mut self.command(args), limit).map_err(Error::NotRun)?;
        if output.status.success() {
            return Ok(output);
        }
        Err(self.failure(args, &output))
    }

    /// The [`Error::Failed`] of `args`, from what it printed.
    pub fn failure(&self, args: &[&str], output: &Output) -> Error {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut lines = stderr.lines().map(str::trim).filter(|l| !l.is_empty());
        // Podman logs warnings first (`level=warning msg=…`, about mounts,
        // say); its reason is the line that starts with `Error`.
        let error_line = lines.clone().find(|line| line.starts_with("Error"));
        let said = error_line.or_else(|| lines.next()).unwrap_or("failed");
        let said = said.strip_prefix("Error: ").unwrap_or(said);
        Error::Failed {
            program: self.program(),
            verb: args.first().unwrap_or(&"").to_string(),
            said: bounded(said, 400),
        }
    }

    /// `run ARGS` with the engine's container options first, within
    /// `limit`: a container named by [`unique_name`] (`what` says what
    /// for), removed once it ends (`--rm`). Returns its stdout.
    pub fn run_container(
        &self,
        what: &str,
        args: &[&str],
        limit: Duration,
    ) -> Result<String, Error> {
        let name = unique_name(what);
        let mut all = vec!["run", "--rm", "--name", &name];
        all.extend(self.create_options.iter().map(String::as_str));
        all.extend(args);
        let answer = self.run_within(&all, limit);
        // `--rm` removes it unless the engine gave up on the way.
        if answer.is_err() {
            self.remove(&name);
        }
        answer
    }

    /// `run` arguments for a container that another program starts:
    /// `run --name NAME OPTIONS`, to be followed by the caller's options,
    /// the image and the command. The caller removes it ([`Engine::remove`]).
    pub fn run_args(&self, name: &str) -> Vec<String> {
        let mut args = vec!["run".to_string(), "--name".into(), name.into()];
        args.extend(self.create_options.iter().cloned());
        args
    }

    /// `create` a container (not started yet) of `image` running `command`,
    /// with `options` after the engine's own; removed when dropped.
    pub fn create(
        &self,
        options: &[String],
        image: &str,
        command: &[String],
    ) -> Result<Container<'_>, Error> {
        let name = unique_name(self.program());
        let mut args = vec!["create", "--name", &name];
        args.extend(self.create_options.iter().map(String::as_str));
        args.extend(options.iter().map(String::as_str));
        args.push(image);
        args.extend(command.iter().map(String::as_str));
        self.run(&args)?;
        Ok(Container { engine: self, name })
    }

    /// Removes the container `name`, running or not (`rm -f`); a
    /// container that is gone already is no error.
    pub fn remove(&self, name: &str) {
        let _ = self.run_within(&["rm", "-f", name], Duration::from_secs(60));
    }

    /// An image's ID, or `None` if the engine has no such image.
    pub fn image_id(&self, reference: &str) -> Option<String> {
        self.run(&["image", "inspect", "--format", "{{.Id}}", reference])
            .ok()
    }

    /// `inspect --format FORMAT NAME`, parsed as a number.
    fn inspect_number(&self, format: &str, name: &str) -> Result<i32, Error> {
        let answer = self.run(&["inspect", "--format", format, name])?;
        answer.parse().map_err(|_| Error::Unexpected {
            asked: format!("{} inspect {format}", self.program()),
            answer,
        })
    }
}

/// A container (or pod) name that no other run, of this process or
/// another, uses: `IMAGE-WHAT-PID-N`, starting with the image's name
/// (`orphans`, or `ORPHANS_IMAGE_NAME`) so that two checkouts sharing an
/// engine can tell their containers apart.
pub fn unique_name(what: &str) -> String {
    static CONTAINERS: AtomicUsize = AtomicUsize::new(0);
    let number = CONTAINERS.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}-{what}-{}-{number}",
        orphans::containers::image::image_name(),
        std::process::id()
    )
}

/// A container of an [`Engine`]; dropping it removes it, running or not.
pub struct Container<'e> {
    engine: &'e Engine,
    pub name: String,
}

impl<'e> Container<'e> {
    /// The container `name`, made by someone else (a `run` that another
    /// program started, see [`Engine::run_args`]): removed when dropped.
    pub fn adopt(engine: &'e Engine, name: String) -> Container<'e> {
        Container { engine, name }
    }

    pub fn start(&self) -> Result<(), Error> {
        self.engine.run(&["start", &self.name]).map(drop)
    }

    /// Copies the host's file `from` to `to` inside the (created) container.
    pub fn copy_in(&self, from: &str, to: &str) -> Result<(), Error> {
        let target = format!("{}:{to}", self.name);
        self.engine.run(&["cp", from, &target]).map(drop)
    }

    /// Copies the container's file `from` to the host's `to`.
    pub fn copy_out(&self, from: &str, to: &std::path::Path) -> Result<(), Error> {
        let source = format!("{}:{from}", self.name);
        let to = to.to_string_lossy();
        self.engine.run(&["cp", &source, &to]).map(drop)
    }

    /// Runs `command` in the running container and returns its stdout.
    pub fn exec(&self, command: &[&str]) -> Result<String, Error> {
        let mut args = vec!["exec", &self.name];
        args.extend(command);
        self.engine.run(&args)
    }

    /// Starts `command` in the running container and returns once it runs
    /// there (`exec -d`), without waiting for it to end.
    pub fn exec_detached(&self, command: &[&str]) -> Result<(), Error> {
        let mut args = vec!["exec", "-d", &self.name];
        args.extend(command);
        self.engine.run(&args).map(drop)
    }

    /// The files added (`A PATH`), changed (`C`) and deleted (`D`) in the
    /// container's file system, one a line (`diff`), running or stopped.
    pub fn diff(&self) -> Result<String, Error> {
        self.engine.run(&["diff", &self.name])
    }

    /// What the container wrote on its stdout so far.
    pub fn logs(&self) -> Result<String, Error> {
        self.engine.run(&["logs", &self.name])
    }

    /// Waits up to `patience` for `line` to appear in [`Container::logs`].
    pub fn wait_for_line(&self, line: &str, patience: Duration) -> Result<(), String> {
        let said = poll_until(patience, Duration::from_millis(50), || match self.logs() {
            Ok(logs) => logs.lines().any(|l| l == line).then_some(Ok(())),
            Err(e) => Some(Err(e.to_string())),
        });
        said.unwrap_or_else(|| {
            Err(format!(
                "the container did not say '{line}' within {} s",
                patience.as_secs()
            ))
        })
    }

    /// The host PID of the container's first process, once it runs
    /// (`inspect`, `.State.Pid`; 0 before it starts).
    pub fn host_pid(&self) -> Result<i32, Error> {
        self.engine.inspect_number("{{.State.Pid}}", &self.name)
    }

    /// Waits up to `patience` for the container to run and have a host PID.
    pub fn wait_for_host_pid(&self, patience: Duration) -> Result<i32, String> {
        poll_until(patience, Duration::from_millis(50), || {
            self.host_pid().ok().filter(|pid| *pid > 0)
        })
        .ok_or_else(|| {
            format!(
                "container {} did not start within {} s",
                self.name,
                patience.as_secs()
            )
        })
    }

    /// `stop -t SECONDS`, and how long it took: SIGTERM (or the image's
    /// STOPSIGNAL) to the container's first process, SIGKILL after the
    /// timeout.
    pub fn stop(&self, timeout_seconds: u32) -> Result<Duration, Error> {
        let started = Instant::now();
        let limit = PATIENCE + Duration::from_secs(timeout_seconds.into());
        self.engine.run_within(
            &["stop", "-t", &timeout_seconds.to_string(), &self.name],
            limit,
        )?;
        Ok(started.elapsed())
    }

    /// Waits for the container to exit and returns its exit status.
    pub fn wait(&self) -> Result<i32, Error> {
        let code = self.engine.run(&["wait", &self.name])?;
        code.parse().map_err(|_| Error::Unexpected {
            asked: format!("{} wait", self.engine.program()),
            answer: code,
        })
    }

    /// The exit status of the container's first process, once it is done.
    pub fn exit_code(&self) -> Result<i32, Error> {
        self.engine
            .inspect_number("{{.State.ExitCode}}", &self.name)
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        self.engine.remove(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_say_whose_they_are() {
        let (a, b) = (unique_name("docker"), unique_name("docker"));
        assert_ne!(a, b);
        let image = orphans::containers::image::image_name();
        assert!(a.starts_with(&format!("{image}-docker-{}-", std::process::id())));
    }

    #[test]
    fn a_failing_command_says_why_in_one_line() {
        // `sh` stands in for an engine's program.
        let engine = Engine::docker();
        let output = Command::new("sh")
            .args(["-c", "echo 'Error: first' >&2; echo second >&2; exit 3"])
            .output()
            .expect("sh");
        let error = engine.failure(&["create", "x"], &output);
        assert!(
            matches!(&error, Error::Failed { verb, said, .. } if verb == "create" && said == "first"),
            "{error:?}"
        );
        assert_eq!(error.to_string(), "docker create: first");
    }

    #[test]
    fn podmans_reason_is_its_error_line_not_its_warnings() {
        let output = Command::new("sh")
            .args([
                "-c",
                "echo 'time=\"x\" level=warning msg=\"/ is not a shared mount\"' >&2; \
                 echo 'Error: command required for rootless mode: newuidmap' >&2; exit 125",
            ])
            .output()
            .expect("sh");
        let said = orphans::containers::podman::engine()
            .failure(&["info"], &output)
            .to_string();
        assert_eq!(
            said,
            "podman info: command required for rootless mode: newuidmap"
        );
    }
}
