//! `docker-inits`: the same workload under `docker run` with no init, with
//! `docker run --init` (tini), and with foster as the entrypoint; prints a
//! markdown table of what each left behind. Chapter 11 runs it.
//!
//! The workload starts a process in a session of its own (setsid) that
//! records the SIGTERM it gets, leaves five orphans that exit a moment
//! later, and becomes `sleep`. The table says how many zombies the orphans
//! left, how `docker stop` went, and whether the setsid'd process got its
//! SIGTERM.
//!
//! The image is the book's own `orphans:VERSION` (chapter 5): the book's
//! programs built static, foster among them as `/bin/foster`, and busybox,
//! `FROM scratch`. The workload marks what happened with files inside the
//! container (`/ready`, `/term`), which `docker diff` lists from outside:
//! nothing is mounted, so the engine may be anywhere.

use std::time::Duration;

use orphans::capability::image_or_missing;
use orphans::containers::engine::{Container, Engine};
use orphans::process::deadline::poll_until;
use orphans::process::procfs::{children, comm, state};
use orphans::table;

const WORKLOAD: &str = r#"/bin/busybox setsid /bin/busybox sh -c 'trap "echo > /term; exit 0" TERM; while :; do /bin/busybox sleep 0.05; done' &
for i in 1 2 3 4 5; do (/bin/busybox sleep 0.3 &); done
echo > /ready
exec /bin/busybox sleep 1000"#;

/// One way of running the container.
struct Setup {
    name: &'static str,
    /// `docker run` arguments before the image.
    options: Vec<String>,
    /// What follows the image name.
    command: Vec<String>,
}

fn main() {
    let image = match image_or_missing() {
        Ok(image) => image.reference,
        Err(missing) => {
            println!("{}", missing.line("The table of three ways"));
            return;
        }
    };
    let sh = |prefix: &[&str]| -> Vec<String> {
        prefix
            .iter()
            .chain(&["/bin/busybox", "sh", "-c", WORKLOAD])
            .map(|s| s.to_string())
            .collect()
    };
    let setups = [
        Setup {
            name: "`docker run`",
            options: vec![],
            command: sh(&[]),
        },
        Setup {
            name: "`docker run --init`",
            options: vec!["--init".into()],
            command: sh(&[]),
        },
        Setup {
            name: "foster as the entrypoint",
            options: ["--entrypoint", "/bin/foster"].map(String::from).to_vec(),
            command: sh(&["--"]),
        },
    ];
    let headings = [
        "how the container runs",
        "PID 1",
        "zombies left by 5 orphans",
        "`docker stop -t 2`",
        "exit status",
        "setsid'd process got SIGTERM",
    ];
    println!("{}", table::header(&headings));
    for setup in &setups {
        match measure(setup, &image) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {} | *failed: {e}* | | | | |", setup.name),
        }
    }
}

/// Runs one setup and returns its table row.
fn measure(setup: &Setup, image: &str) -> Result<String, String> {
    let docker = Engine::docker();
    // Removed when dropped.
    let container = docker.create(&setup.options, image, &setup.command)?;
    container.start()?;
    let (pid1, zombies, stop_time, status, term) = observe(&container)?;
    Ok(table::row(&[
        setup.name.to_string(),
        format!("`{pid1}`"),
        zombies.to_string(),
        format!("{:.1} s", stop_time.as_secs_f64()),
        status.to_string(),
        if term { "yes" } else { "no" }.to_string(),
    ]))
}

type Observation = (String, usize, Duration, i32, bool);

fn observe(container: &Container) -> Result<Observation, String> {
    poll_until(Duration::from_secs(5), Duration::from_millis(20), || {
        added(container, "/ready").then_some(())
    })
    .ok_or("the workload did not start within 5 s")?;
    // The orphans exit 0.3 s after `ready`; give them, and their reaper, time.
    std::thread::sleep(Duration::from_millis(800));
    let pid = container.host_pid()?;
    let pid1 = comm(pid).unwrap_or_else(|| "?".into());
    let zombies = children(pid)
        .into_iter()
        .filter(|&child| state(child) == Some('Z'))
        .count();
    let stop_time = container.stop(2)?;
    let status = container.exit_code()?;
    Ok((pid1, zombies, stop_time, status, added(container, "/term")))
}

/// Whether the file `path` has been made in `container`: `docker diff`
/// lists what changed in its file system (`A /path` for a file added),
/// running or stopped.
fn added(container: &Container, path: &str) -> bool {
    container.diff().is_ok_and(|changes| {
        changes
            .lines()
            .any(|line| line.trim() == format!("A {path}"))
    })
}
