//! Waiting with a deadline: for a condition ([`poll_until`]), for a child
//! ([`wait_until`], [`wait_within`]), for a command and its output
//! ([`output_within`]). Nothing of the book waits for ever: an engine, a
//! workload or a check can hang as well as fail.

use std::fmt;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a child is asked whether it has ended: also the resolution
/// of the times the book measures with [`wait_until`].
pub const TICK: Duration = Duration::from_millis(2);

/// Calls `check` every `tick` until it gives `Some`, and returns that; gives
/// up with `None` once `patience` is over (after one last call, so that a
/// condition that became true at the end still counts).
pub fn poll_until<T>(
    patience: Duration,
    tick: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep(tick.min(deadline - now));
    }
}

/// The status of `child` once it has ended, or `None` if it still runs at
/// `deadline` (it is left running).
pub fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    let patience = deadline.saturating_duration_since(Instant::now());
    poll_until(patience, TICK, || child.try_wait().ok().flatten())
}

/// The status of `child` if it ends within `limit`; otherwise it is killed
/// (SIGKILL) and reaped, and the answer is `None`.
pub fn wait_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let ended = wait_until(child, Instant::now() + limit);
    if ended.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    ended
}

/// Why [`output_within`] has no output to give.
#[derive(Debug)]
pub enum Failure {
    /// The program could not be started (not installed, say).
    CannotStart {
        program: String,
        error: std::io::Error,
    },
    /// It ran longer than the limit and was killed.
    TooLong { program: String, limit: Duration },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::CannotStart { program, error } => {
                write!(f, "`{program}` cannot be started ({error})")
            }
            Failure::TooLong { program, limit } => write!(
                f,
                "`{program}` did not finish within {} s",
                limit.as_secs_f64()
            ),
        }
    }
}

impl From<Failure> for String {
    fn from(failure: Failure) -> String {
        failure.to_string()
    }
}

/// Runs `command` with no stdin and returns what it printed and how it
/// ended, or kills it once `limit` is over. Its stdout and stderr are read
/// while it runs, so a command that prints much cannot fill a pipe and
/// stall.
pub fn output_within(command: &mut Command, limit: Duration) -> Result<Output, Failure> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| Failure::CannotStart {
            program: program.clone(),
            error,
        })?;
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    match wait_within(&mut child, limit) {
        Some(status) => Ok(Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        }),
        // The readers end when the pipes close: not waited for, as
        // whatever the command started may still hold them open.
        None => Err(Failure::TooLong { program, limit }),
    }
}

/// Reads `pipe` to its end in a thread of its own; the bytes come with
/// `join`.
pub fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_does_not_answer_in_time_is_killed() {
        let started = Instant::now();
        let slow = output_within(Command::new("sleep").arg("30"), Duration::from_secs(1));
        assert!(matches!(slow, Err(Failure::TooLong { .. })), "{slow:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let output = output_within(Command::new("echo").arg("hi"), Duration::from_secs(5))
            .expect("echo answers");
        assert_eq!(output.stdout, b"hi\n");
        let absent = output_within(
            &mut Command::new("/no/such/program"),
            Duration::from_secs(1),
        );
        assert!(matches!(absent, Err(Failure::CannotStart { .. })));
    }

    #[test]
    fn much_output_does_not_stall_the_command() {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "head -c 1000000 /dev/zero; head -c 300000 /dev/zero >&2",
        ]);
        let output = output_within(&mut command, Duration::from_secs(20)).expect("it ends");
        assert_eq!(
            (output.stdout.len(), output.stderr.len()),
            (1_000_000, 300_000)
        );
    }

    #[test]
    fn polling_ends_when_the_condition_holds_or_time_is_up() {
        let mut calls = 0;
        let found = poll_until(Duration::from_secs(5), Duration::from_millis(1), || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(found, Some(3));
        let started = Instant::now();
        let never = poll_until(Duration::from_millis(50), Duration::from_millis(5), || {
            None::<()>
        });
        assert_eq!(never, None);
        assert!(started.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn a_child_that_outlives_its_limit_is_killed() {
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep");
        assert_eq!(wait_within(&mut child, Duration::from_millis(100)), None);
        // Reaped by wait_within: nothing is left to wait for.
        assert!(child.try_wait().is_ok_and(|status| status.is_some()));
        let mut quick = Command::new("true").spawn().expect("true");
        let status = wait_within(&mut quick, Duration::from_secs(5));
        assert!(status.is_some_and(|s| s.success()));
    }
}
