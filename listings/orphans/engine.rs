//! Containers through an engine's command line, Docker's or Podman's, for
//! the experiments of chapters 14 and 15. Podman's command line takes
//! Docker's verbs and flags (`create`, `cp`, `start`, `exec`, `logs`,
//! `stop -t`, `inspect`), so one code path drives both, and every step is
//! a command a reader can type.
//!
//! Every container is named with a prefix of its own and removed when its
//! [`Container`] is dropped, on error paths too. Nothing here needs the
//! host's `/proc` or a bind mount: what happened inside a container is
//! read back with `exec` (the book's `census`) and `logs`, so the engine
//! could as well be on another machine.

use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orphans::census::{self, Process};

/// An engine's command, and what every container it creates gets.
#[derive(Clone, Debug)]
pub struct Engine {
    /// `docker` or `podman`.
    pub program: &'static str,
    /// Options of every `create`: `--network none` (a reader's machine may
    /// have no bridge network), and Podman's lower rlimits.
    pub create_options: Vec<String>,
    /// Variables set for every command of the engine (Podman's
    /// `CONTAINERS_CONF`, which its pods need).
    pub environment: Vec<(String, OsString)>,
}

impl Engine {
    /// The Docker engine the `docker` command talks to.
    pub fn docker() -> Engine {
        Engine {
            program: "docker",
            create_options: vec!["--network".into(), "none".into()],
            environment: Vec::new(),
        }
    }

    /// Runs `PROGRAM ARGS` and returns its stdout, trimmed, if it succeeds;
    /// otherwise the first line of what it said on stderr (runc's errors
    /// are long chains of causes, "a: b: c", so up to 400 characters).
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(self.program)
            .args(args)
            .envs(self.environment.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let why = stderr.lines().map(str::trim).find(|l| !l.is_empty());
            let verb = args.first().unwrap_or(&"");
            Err(format!(
                "{} {verb}: {}",
                self.program,
                bounded(why.unwrap_or("failed"), 400)
            ))
        }
    }

    /// `create` a container (not started yet) of `image` running `command`,
    /// with `options` after the engine's own; removed when dropped.
    pub fn create(
        &self,
        options: &[String],
        image: &str,
        command: &[String],
    ) -> Result<Container<'_>, String> {
        let name = unique_name(self.program);
        let mut args = vec!["create", "--name", &name];
        args.extend(self.create_options.iter().map(String::as_str));
        args.extend(options.iter().map(String::as_str));
        args.push(image);
        args.extend(command.iter().map(String::as_str));
        self.run(&args)?;
        Ok(Container { engine: self, name })
    }
}

/// `text`, cut after `max` characters (with an ellipsis).
fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A container (or pod) name that no other run, of this process or
/// another, uses.
pub fn unique_name(program: &str) -> String {
    static CONTAINERS: AtomicUsize = AtomicUsize::new(0);
    let number = CONTAINERS.fetch_add(1, Ordering::Relaxed);
    format!("orphans-{program}-{}-{number}", std::process::id())
}

/// A container of an [`Engine`]; dropping it removes it, running or not.
pub struct Container<'e> {
    engine: &'e Engine,
    pub name: String,
}

impl Container<'_> {
    pub fn start(&self) -> Result<(), String> {
        self.engine.run(&["start", &self.name]).map(drop)
    }

    /// Copies the host's file `from` to `to` inside the (created) container.
    pub fn copy_in(&self, from: &str, to: &str) -> Result<(), String> {
        let target = format!("{}:{to}", self.name);
        self.engine.run(&["cp", from, &target]).map(drop)
    }

    /// Runs `command` in the running container and returns its stdout.
    pub fn exec(&self, command: &[&str]) -> Result<String, String> {
        let mut args = vec!["exec", &self.name];
        args.extend(command);
        self.engine.run(&args)
    }

    /// Every process of the container's PID namespace, as the book's
    /// `census` (in the project's image) sees it from inside.
    pub fn census(&self) -> Result<Vec<Process>, String> {
        census::from_json(&self.exec(&["/bin/census"])?)
    }

    /// What the container wrote on its stdout so far.
    pub fn logs(&self) -> Result<String, String> {
        self.engine.run(&["logs", &self.name])
    }

    /// Waits up to `patience` for `line` to appear in [`Container::logs`].
    pub fn wait_for_line(&self, line: &str, patience: Duration) -> Result<(), String> {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if self.logs()?.lines().any(|l| l == line) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "the container did not say '{line}' within {} s",
            patience.as_secs()
        ))
    }

    /// `stop -t SECONDS`, and how long it took: SIGTERM (or the image's
    /// STOPSIGNAL) to the container's first process, SIGKILL after the
    /// timeout.
    pub fn stop(&self, timeout_seconds: u32) -> Result<Duration, String> {
        let started = Instant::now();
        self.engine
            .run(&["stop", "-t", &timeout_seconds.to_string(), &self.name])?;
        Ok(started.elapsed())
    }

    /// Waits for the container to exit and returns its exit status.
    pub fn wait(&self) -> Result<i32, String> {
        let code = self.engine.run(&["wait", &self.name])?;
        code.parse()
            .map_err(|_| format!("wait gave '{code}', not an exit status"))
    }

    /// The exit status of the container's first process, once it is done.
    pub fn exit_code(&self) -> Result<i32, String> {
        let code = self
            .engine
            .run(&["inspect", "--format", "{{.State.ExitCode}}", &self.name])?;
        code.parse()
            .map_err(|_| format!("inspect gave '{code}', not an exit status"))
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self.engine.run(&["rm", "-f", &self.name]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_say_whose_they_are() {
        let (a, b) = (unique_name("docker"), unique_name("docker"));
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("orphans-docker-{}-", std::process::id())));
    }

    #[test]
    fn a_failing_command_says_why_in_one_line() {
        let engine = Engine {
            program: "sh",
            create_options: Vec::new(),
            environment: Vec::new(),
        };
        assert_eq!(engine.run(&["-c", "echo hi"]), Ok("hi".into()));
        let error = engine
            .run(&["-c", "echo first >&2; echo second >&2; exit 3"])
            .unwrap_err();
        assert_eq!(error, "sh -c: first");
        assert_eq!(bounded("abcdef", 4), "abcd…");
        assert_eq!(bounded("abc", 4), "abc");
    }
}
