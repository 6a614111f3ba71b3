//! Stopping a PID namespace from outside, the way `docker stop -t T` stops
//! a container: SIGTERM to its PID 1, up to T seconds of grace, then
//! SIGKILL. What comes back is what the stop looked like: how long the
//! namespace took to die, who heard SIGTERM, and how PID 1 ended.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use orphans::containers::engine::{unique_name, Container, Engine};
use orphans::namespace::journal::{self, Entry, Event};
use orphans::process::deadline::{poll_until, wait_until, TICK};
use orphans::process::procfs::{children, comm, tree_of};
use orphans::process::shell_code;
use orphans::process::spawn::{dying_with_us, path_with_siblings};

/// How a stop is done.
pub struct Plan {
    /// The `container` program that makes the PID namespace.
    pub container: PathBuf,
    /// The command that becomes PID 1 (it may start others).
    pub command: Vec<OsString>,
    /// How long PID 1 has between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// How many `ready` lines the journal must hold before SIGTERM is sent.
    pub ready: usize,
}

/// What a stop looked like.
#[derive(Debug)]
pub struct Outcome {
    /// The namespace's processes when SIGTERM was sent, PID 1 first:
    /// command names.
    pub running: Vec<String>,
    /// Who noted SIGTERM in the journal: (name, PID in the namespace).
    pub heard_sigterm: Vec<(String, i32)>,
    /// From SIGTERM until the namespace was gone.
    pub took: Duration,
    /// Whether the grace ran out and SIGKILL had to be sent.
    pub killed: bool,
    /// PID 1's status as a shell shows it (128+N for signal N).
    pub status: i32,
}

impl Outcome {
    /// How long the stop took, as a table's cell: "0.01 s", or "2.00 s,
    /// SIGKILL after 2 s" when the grace ran out.
    pub fn took_cell(&self, grace: Duration) -> String {
        let seconds = self.took.as_secs_f64();
        if self.killed {
            format!("{seconds:.2} s, SIGKILL after {} s", grace.as_secs_f64())
        } else {
            format!("{seconds:.2} s")
        }
    }

    /// "nobody", or "naive-init (PID 1), worker (PID 2)".
    pub fn who_heard_sigterm(&self) -> String {
        if self.heard_sigterm.is_empty() {
            return "nobody".to_string();
        }
        let names: Vec<String> = self
            .heard_sigterm
            .iter()
            .map(|(name, pid)| format!("{name} (PID {pid})"))
            .collect();
        names.join(", ")
    }
}

/// How long the workload may take to start before we give up.
const START_PATIENCE: Duration = Duration::from_secs(5);

/// What a caller may look at once the workload is ready, just before
/// SIGTERM: PID 1 as this machine's `/proc` numbers it, and the journal as
/// far as it has been written.
pub struct Ready {
    pub pid1: Pid,
    pub journal: String,
}

/// Starts `plan.command` as PID 1 of a new namespace, waits until it is
/// ready, and stops it as `docker stop` would.
pub fn stop(plan: &Plan) -> Result<Outcome, String> {
    stop_looking(plan, |_| ()).map(|(outcome, ())| outcome)
}

// ANCHOR: stop
/// [`stop`], and what `look` finds in the namespace once it is ready
/// (chapter 17 reads PID 1's signal handling and counts zombies there).
pub fn stop_looking<T>(
    plan: &Plan,
    look: impl FnOnce(&Ready) -> T,
) -> Result<(Outcome, T), String> {
    let journal = Journal::new()?;
    let mut container = dying_with_us(&mut Command::new(&plan.container))
        .args(&plan.command)
        .env(journal::VARIABLE, &journal.path)
        .env("PATH", path_with_siblings())
        // The workload's output is not the table's.
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", plan.container.display()))?;
    let container_pid = container.id() as i32;
    let found = wait_until_ready(
        &mut container,
        plan.ready,
        || journal::read(&journal.path),
        || pid1_of_container(container_pid),
    );
    let pid1 = match found {
        Ok(pid1) => pid1,
        Err(e) => {
            let _ = container.kill();
            let _ = container.wait();
            return Err(e);
        }
    };
    let running = namespace_processes(pid1);
    let seen = look(&Ready {
        pid1,
        journal: std::fs::read_to_string(&journal.path).unwrap_or_default(),
    });

    // What `docker stop` does: SIGTERM to PID 1 only, then a grace period.
    let sigterm_sent = Instant::now();
    let _ = kill(pid1, Signal::SIGTERM);
    let mut ended = wait_until(&mut container, sigterm_sent + plan.grace);
    let killed = ended.is_none();
    if killed {
        // SIGKILL from outside the namespace reaches even PID 1, and when
        // PID 1 dies the kernel kills everyone else in the namespace.
        let _ = kill(pid1, Signal::SIGKILL);
        ended = wait_until(&mut container, Instant::now() + START_PATIENCE);
    }
    let took = sigterm_sent.elapsed();
    let status = ended.ok_or("the namespace survived SIGKILL")?;
    let outcome = Outcome {
        running,
        heard_sigterm: journal.entries(Event::Sigterm),
        took,
        killed,
        status: shell_code(status),
    };
    Ok((outcome, seen))
}
// ANCHOR_END: stop

// ANCHOR: docker
/// The same stop done by a real Docker engine: `plan.command` runs in a
/// container of `image`, and `docker stop -t GRACE` stops it (the grace
/// rounded to whole seconds, all that `docker stop` takes). The journal is
/// a file inside the container, read with `docker exec` while it runs and
/// copied out with `docker cp` once it has stopped: nothing is mounted.
pub fn docker_stop(image: &str, plan: &Plan) -> Result<Outcome, String> {
    docker_stop_looking(image, &[], plan, |_| ()).map(|(outcome, ())| outcome)
}

/// [`docker_stop`] with more options for `docker run` (`--init`), and what
/// `look` finds once the workload is ready (its `pid1` is the host's PID
/// of the container's PID 1).
pub fn docker_stop_looking<T>(
    image: &str,
    options: &[&str],
    plan: &Plan,
    look: impl FnOnce(&Ready) -> T,
) -> Result<(Outcome, T), String> {
    let journal = Journal::new()?;
    let docker = Engine::docker();
    // Removed when dropped, whatever happens below.
    let container = Container::adopt(&docker, unique_name("stop"));
    let mut run = dying_with_us(&mut docker.command(&[]))
        .args(docker.run_args(&container.name))
        .arg("--env")
        .arg(format!("{}={IN_CONTAINER}", journal::VARIABLE))
        .args(options)
        .arg(image)
        .args(&plan.command)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    let result = stop_in_docker(&container, &mut run, plan, &journal, look);
    // Removing the container ends its `docker run`, which we then reap.
    drop(container);
    let _ = run.wait();
    result
}

/// Where the workloads in the container keep their journal.
const IN_CONTAINER: &str = "/journal";

fn stop_in_docker<T>(
    container: &Container,
    run: &mut Child,
    plan: &Plan,
    journal: &Journal,
    look: impl FnOnce(&Ready) -> T,
) -> Result<(Outcome, T), String> {
    let pid1 = wait_until_ready(
        run,
        plan.ready,
        || journal::parse_all(&journal_text_in_container(container)),
        || container.host_pid().ok().filter(|pid| *pid > 0),
    )?;
    let running = namespace_processes(pid1);
    let seen = look(&Ready {
        pid1,
        journal: journal_text_in_container(container),
    });
    let grace = plan.grace.as_secs_f64().round() as u32;
    // `docker stop` returns once the container has stopped.
    let took = container.stop(grace)?;
    // `docker run` exits with the status of the container's PID 1.
    let status = wait_until(run, Instant::now() + START_PATIENCE)
        .ok_or("docker run did not end after docker stop")?;
    container
        .copy_out(IN_CONTAINER, &journal.path)
        .map_err(|e| format!("copying the journal out: {e}"))?;
    let outcome = Outcome {
        running,
        heard_sigterm: journal.entries(Event::Sigterm),
        took,
        // `docker stop` does not say whether it had to send SIGKILL; a stop
        // that lasted the whole grace period did.
        killed: took >= Duration::from_secs(grace.into()),
        status: shell_code(status),
    };
    Ok((outcome, seen))
}
// ANCHOR_END: docker

/// The text of the journal inside the running `container`, as far as it
/// has been written (empty before the first line, or before it runs).
fn journal_text_in_container(container: &Container) -> String {
    container.exec(&["cat", IN_CONTAINER]).unwrap_or_default()
}

/// How many `worker`s a command line runs: each says when it is ready, so
/// this is the default number of `ready` lines to wait for.
pub fn workers_in(command: &[OsString]) -> usize {
    command
        .iter()
        .filter(|word| Path::new(word).file_name() == Some("worker".as_ref()))
        .count()
}

/// Waits until `ready` processes have said in the journal (as
/// `read_journal` reads it) that they are ready, and `find_pid1` names
/// PID 1 (as we see it, from outside). Fails if `starter` (the process that
/// runs the namespace) ends first.
fn wait_until_ready(
    starter: &mut Child,
    ready: usize,
    read_journal: impl Fn() -> Vec<Entry>,
    find_pid1: impl Fn() -> Option<i32>,
) -> Result<Pid, String> {
    let found = poll_until(START_PATIENCE, TICK, || {
        if let Ok(Some(status)) = starter.try_wait() {
            return Some(Err(format!(
                "the workload ended before it was stopped ({status})"
            )));
        }
        let journal = read_journal();
        let ready_count = journal.iter().filter(|e| e.event == Event::Ready).count();
        let pid1 = (ready_count >= ready).then(&find_pid1).flatten()?;
        Some(Ok(Pid::from_raw(pid1)))
    });
    found.unwrap_or_else(|| {
        Err(format!(
            "the workload was not ready within {} s ({ready} 'ready' lines expected)",
            START_PATIENCE.as_secs()
        ))
    })
}

/// PID 1 of the namespace of `container`, once it runs the command: the
/// only child of `container`, no longer named after it.
fn pid1_of_container(container: i32) -> Option<i32> {
    let pid1 = children(container).into_iter().next()?;
    comm(pid1)
        .is_some_and(|name| name != "container")
        .then_some(pid1)
}

/// The command names of `pid1` and all its descendants, PID 1 first.
fn namespace_processes(pid1: Pid) -> Vec<String> {
    tree_of(pid1.as_raw())
        .into_iter()
        .filter_map(comm)
        .collect()
}

/// A journal file in a fresh temporary directory, removed when dropped.
struct Journal {
    dir: PathBuf,
    path: PathBuf,
}

impl Journal {
    fn new() -> Result<Journal, String> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("orphans-stop-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let path = dir.join("journal");
        Ok(Journal { dir, path })
    }

    /// (name, PID) of every entry for `event`.
    fn entries(&self, event: Event) -> Vec<(String, i32)> {
        journal::read(&self.path)
            .into_iter()
            .filter(|entry| entry.event == event)
            .map(|entry| (entry.name, entry.pid))
            .collect()
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_cell_says_when_sigkill_was_needed() {
        let outcome = |seconds, killed| Outcome {
            running: Vec::new(),
            heard_sigterm: Vec::new(),
            took: Duration::from_secs_f64(seconds),
            killed,
            status: 137,
        };
        let grace = Duration::from_secs(2);
        assert_eq!(outcome(0.013, false).took_cell(grace), "0.01 s");
        assert_eq!(
            outcome(2.004, true).took_cell(grace),
            "2.00 s, SIGKILL after 2 s"
        );
    }
}
