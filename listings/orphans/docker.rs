//! Talking to a Docker engine through the `docker` command: is there one,
//! and run a command in a container while the host looks at its PID 1.
//!
//! The `docker` CLI is used rather than the engine's HTTP API so that every
//! step is a command a reader can type.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a container may take to start before we give up on it.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `docker ARGS` and returns its output; `Err` says what failed.
pub fn docker(args: &[&str]) -> Result<Output, String> {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))
}

/// Stdout of `docker ARGS`, trimmed, when it succeeds; otherwise its stderr.
pub fn docker_text(args: &[&str]) -> Result<String, String> {
    let output = docker(args)?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(format!(
            "docker {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The engine's version (`docker info`), or why no engine answers.
pub fn engine_version() -> Result<String, String> {
    docker_text(&["info", "--format", "{{.ServerVersion}}"])
        .map_err(|e| format!("no Docker engine answers ({e})"))
}

// ANCHOR: watched
/// What [`run_watched`] saw: the command line it ran, the host's PID of
/// the container's PID 1 (`docker inspect`, `.State.Pid`), and what the
/// command printed.
#[derive(Clone, Debug)]
pub struct WatchedRun {
    pub command_line: String,
    pub host_pid_of_pid1: i32,
    pub stdout: String,
}

/// Runs `command` as PID 1 of a new container of `image` (with the extra
/// `docker run` options `options`), and asks the engine for that PID 1's
/// host PID *before* the command starts: PID 1 is first a shell that waits
/// for a line on its stdin, then `exec`s the command, keeping its PID.
pub fn run_watched(image: &str, options: &[&str], command: &[&str]) -> Result<WatchedRun, String> {
    let name = unique_container_name();
    let mut args = vec!["run", "-i", "--rm", "--name", &name];
    args.extend(options);
    args.extend([image, "/bin/sh", "-c", "read go && exec \"$@\"", "sh"]);
    args.extend(command);
    let mut client = Command::new("docker")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    let host_pid = match wait_for_host_pid(&name, &mut client) {
        Ok(pid) => pid,
        Err(e) => {
            let _ = client.kill();
            let _ = docker(&["rm", "-f", &name]);
            let _ = client.wait();
            return Err(e);
        }
    };
    // The go-ahead; closing stdin afterwards lets nothing else wait on it.
    let mut stdin = client.stdin.take().ok_or("no stdin pipe to docker")?;
    let _ = stdin.write_all(b"go\n");
    drop(stdin);
    let output = client
        .wait_with_output()
        .map_err(|e| format!("waiting for docker run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "docker run exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(WatchedRun {
        command_line: format!("docker {}", shell_words(&args)),
        host_pid_of_pid1: host_pid,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    })
}
// ANCHOR_END: watched

/// Polls `docker inspect` until container `name` runs and has a PID on the
/// host, within [`START_TIMEOUT`].
fn wait_for_host_pid(name: &str, client: &mut Child) -> Result<i32, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = client.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = client.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            return Err(format!(
                "docker run ended early ({status}): {}",
                stderr.trim()
            ));
        }
        let pid = docker_text(&["inspect", "--format", "{{.State.Pid}}", name]);
        if let Ok(pid) = pid.as_deref().unwrap_or("").parse::<i32>() {
            if pid > 0 {
                return Ok(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "container {name} did not start within {} s",
        START_TIMEOUT.as_secs()
    ))
}

/// A container name no other run (of this process or another) uses.
fn unique_container_name() -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    format!("orphans-{}-{run}", std::process::id())
}

/// `args` as a line a POSIX shell would split back into the same words.
pub fn shell_words(args: &[&str]) -> String {
    let quote = |word: &&str| {
        let plain = !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b));
        if plain {
            word.to_string()
        } else {
            format!("'{}'", word.replace('\'', r"'\''"))
        }
    };
    args.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// A container started with `docker run -d`; dropping it removes it.
pub struct Running {
    pub id: String,
}

impl Running {
    /// Starts `args` (a command and its arguments) in `image`, detached.
    pub fn start(image: &str, args: &[&str]) -> Result<Running, String> {
        let mut run = vec!["run", "-d", "--rm", image];
        run.extend_from_slice(args);
        docker_text(&run).map(|id| Running { id })
    }

    /// The host PID of the container's PID 1, as the engine reports it.
    pub fn host_pid(&self) -> Result<i32, String> {
        let pid = docker_text(&["inspect", "--format", "{{.State.Pid}}", &self.id])?;
        pid.parse()
            .map_err(|_| format!("docker inspect gave '{pid}', not a PID"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_quotes_only_what_needs_it() {
        assert_eq!(
            shell_words(&["sh", "-c", "read go && exec \"$@\"", "it's"]),
            r#"sh -c 'read go && exec "$@"' 'it'\''s'"#
        );
        assert_eq!(shell_words(&["-v", "/a:/b:ro", ""]), "-v /a:/b:ro ''");
    }
}
