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

use std::process::Output;
use std::time::{Duration, Instant};

use foster::procfs::{children, comm, state};
use orphans::capability::line_for;
use orphans::docker::{unique_container_name, RUN};
use orphans::image::{image_for_docker_rows, Availability};

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
    let image = match image_for_docker_rows() {
        Ok(Availability::Ready(image)) => image.reference,
        Ok(Availability::Unavailable(missing)) => {
            println!("{}", line_for("The table of three ways", &missing));
            return;
        }
        Err(reason) => {
            eprintln!("docker-inits: {reason}");
            std::process::exit(1);
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
    println!("| how the container runs | PID 1 | zombies left by 5 orphans | `docker stop -t 2` | exit status | setsid'd process got SIGTERM |");
    println!("|---|---|---|---|---|---|");
    for setup in &setups {
        match measure(setup, &image) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {} | *failed: {e}* | | | | |", setup.name),
        }
    }
}

/// Runs one setup and returns its table row.
fn measure(setup: &Setup, image: &str) -> Result<String, String> {
    let name = unique_container_name("ch11");
    let mut args: Vec<String> = RUN.map(String::from).to_vec();
    args.extend(["-d", "--name", &name].map(String::from));
    args.extend(setup.options.iter().cloned());
    args.push(image.into());
    args.extend(setup.command.iter().cloned());
    let result = observe(&name, &args);
    let _ = docker(&["rm", "-f", &name]);
    let (pid1, zombies, stop_time, status, term) = result?;
    Ok(format!(
        "| {} | `{pid1}` | {zombies} | {:.1} s | {status} | {} |",
        setup.name,
        stop_time.as_secs_f64(),
        if term { "yes" } else { "no" }
    ))
}

type Observation = (String, usize, Duration, String, bool);

fn observe(name: &str, args: &[String]) -> Result<Observation, String> {
    let started = docker(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    drop(started);
    wait_for(name, "/ready")?;
    // The orphans exit 0.3 s after `ready`; give them, and their reaper, time.
    std::thread::sleep(Duration::from_millis(800));
    let pid = docker(&["inspect", "--format", "{{.State.Pid}}", name])?;
    let pid: i32 = text(&pid)
        .trim()
        .parse()
        .map_err(|_| "no PID for the container")?;
    let pid1 = comm(pid).unwrap_or_else(|| "?".into());
    let zombies = children(pid)
        .into_iter()
        .filter(|&child| state(child) == Some('Z'))
        .count();
    let before = Instant::now();
    docker(&["stop", "-t", "2", name])?;
    let stop_time = before.elapsed();
    let status = text(&docker(&[
        "inspect",
        "--format",
        "{{.State.ExitCode}}",
        name,
    ])?)
    .trim()
    .to_string();
    Ok((pid1, zombies, stop_time, status, added(name, "/term")))
}

/// Whether the file `path` has been made in container `name`: `docker diff`
/// lists what changed in its file system (`A /path` for a file added),
/// running or stopped.
fn added(name: &str, path: &str) -> bool {
    docker(&["diff", name])
        .map(|output| {
            text(&output)
                .lines()
                .any(|line| line.trim() == format!("A {path}"))
        })
        .unwrap_or(false)
}

fn wait_for(name: &str, path: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if added(name, path) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("the workload did not start within 5 s".into())
}

/// `docker ARGS`, an error unless it succeeded.
fn docker(args: &[&str]) -> Result<Output, String> {
    let output = orphans::docker::docker(args)?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "docker {}: {}",
            args[0],
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
