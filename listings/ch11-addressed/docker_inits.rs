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
//! `FROM scratch`.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use foster::procfs::{children, comm, state};
use orphans::image::{image_for_docker_rows, Availability};

const WORKLOAD: &str = r#"/bin/busybox setsid /bin/busybox sh -c 'trap "echo > /out/term; exit 0" TERM; while :; do /bin/busybox sleep 0.05; done' &
for i in 1 2 3 4 5; do (/bin/busybox sleep 0.3 &); done
echo > /out/ready
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
        Ok(Availability::NoEngine(reason)) | Err(reason) => {
            println!("*The machine that built this book could not run this experiment: {reason}.*");
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
    let out = std::env::temp_dir().join(format!("orphans-ch11-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("mkdir: {e}"))?;
    let name = format!("orphans-ch11-{}", std::process::id());
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--name",
        &name,
        "-v",
        &format!("{}:/out", out.display()),
    ]
    .map(String::from)
    .to_vec();
    args.extend(setup.options.iter().cloned());
    args.push(image.into());
    args.extend(setup.command.iter().cloned());
    let result = observe(&name, &args, &out);
    let _ = docker(&["rm", "-f", &name]);
    let _ = std::fs::remove_dir_all(&out);
    let (pid1, zombies, stop_time, status, term) = result?;
    Ok(format!(
        "| {} | `{pid1}` | {zombies} | {:.1} s | {status} | {} |",
        setup.name,
        stop_time.as_secs_f64(),
        if term { "yes" } else { "no" }
    ))
}

type Observation = (String, usize, Duration, String, bool);

fn observe(name: &str, args: &[String], out: &Path) -> Result<Observation, String> {
    let started = docker(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    drop(started);
    wait_for(&out.join("ready"))?;
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
    Ok((pid1, zombies, stop_time, status, out.join("term").exists()))
}

fn wait_for(file: &Path) -> Result<(), String> {
    for _ in 0..500 {
        if file.exists() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
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
