//! `full-init`: a full init as a container's PID 1. Builds a `FROM scratch`
//! image that holds this machine's own systemd (the binary, `systemctl`,
//! `systemd-shutdown`, the libraries they load and the few units a halt
//! needs) with busybox, runs it under `podman run --systemd=always`, and
//! reports what Podman prepared for it, who PID 1 is, whether the
//! workload's orphans were reaped, and how `podman stop` went with the stop
//! signal Podman chose (SIGRTMIN+3) and with SIGTERM. Chapter 11 runs it;
//! it prints markdown. Nothing of the machine changes: the image and the
//! containers are removed at the end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use orphans::capability::{self, Missing};
use orphans::containers::engine::{Container, Engine};
use orphans::missing::failed_line;

/// The host's systemd, and the two programs its halt runs.
const SYSTEMD: &str = "/lib/systemd/systemd";
const HALT_PROGRAMS: [&str; 2] = ["/bin/systemctl", "/lib/systemd/systemd-shutdown"];
/// The host's units that a halt goes through (halt.target and what it
/// pulls in), copied as they are.
const HALT_UNITS: [&str; 5] = [
    "halt.target",
    "systemd-halt.service",
    "shutdown.target",
    "umount.target",
    "final.target",
];

// ANCHOR: units
/// The image's own units: a default target that starts the workload, a
/// shell that leaves five orphans behind and then becomes `sleep`.
const UNITS: [(&str, &str); 2] = [
    (
        "default.target",
        "[Unit]\nDescription=the book's target\nWants=workload.service\n",
    ),
    (
        "workload.service",
        "[Unit]\nDescription=five orphans, then a sleeper\n\
         [Service]\nExecStart=/bin/sh -c \
         'for i in 1 2 3 4 5; do (sleep 0.2 &); done; exec sleep 1000'\n",
    ),
];
// ANCHOR_END: units

/// `podman stop -t` for each row: long enough for a clean halt.
const STOP_TIMEOUT: u64 = 10;

fn main() {
    let experiment = "The full-init table";
    if let Err(missing) = requirements() {
        println!("{}", missing.line(experiment));
        return;
    }
    let engine = orphans::containers::podman::engine();
    let tag = format!("localhost/orphans-systemd:{}", std::process::id());
    let context = std::env::temp_dir().join(format!("orphans-systemd-{}", std::process::id()));
    let shown = build_image(&context, &tag).and_then(|()| table(&engine, &tag));
    let _ = std::fs::remove_dir_all(&context);
    let _ = engine.run(&["rmi", "-f", &tag]);
    if let Err(e) = shown {
        println!("{}", failed_line(experiment, &e));
    }
}

/// Podman, this machine's systemd, ldd to find its libraries, and a
/// static busybox for the image's shell.
fn requirements() -> Result<(), Missing> {
    capability::podman()?;
    capability::program(SYSTEMD, "systemd")?;
    capability::program("/usr/bin/ldd", "libc-bin")?;
    capability::busybox()
}

/// Two containers of the image: with the stop signal `--systemd=always`
/// gives them, and with SIGTERM instead. Prints the table and what Podman
/// prepared for systemd.
fn table(engine: &Engine, image: &str) -> Result<(), String> {
    println!("| `podman run --systemd=always` | stop signal | PID 1 | zombies left | `podman stop -t {STOP_TIMEOUT}` took | exit status |");
    println!("|---|---|---|---|---|---|");
    let mut prepared = String::new();
    for options in [&[][..], &["--stop-signal", "SIGTERM"][..]] {
        let mut create = vec!["--systemd=always".to_string()];
        create.extend(options.iter().map(|o| o.to_string()));
        let container = engine.create(&create, image, &[SYSTEMD.to_string()])?;
        container.start()?;
        // The workload's orphans exit a moment after they are made.
        std::thread::sleep(Duration::from_secs(2));
        let (pid1, zombies) = pid1_and_zombies(&container)?;
        if prepared.is_empty() {
            prepared = what_podman_prepared(&container)?;
        }
        let signal = engine.run(&[
            "inspect",
            "--format",
            "{{.Config.StopSignal}}",
            &container.name,
        ])?;
        let (took, status) = stop(engine, &container)?;
        let label = match options {
            [] => "as it is".to_string(),
            _ => format!("`{}`", options.join(" ")),
        };
        println!(
            "| {label} | {} | `{pid1}` | {zombies} | {:.1} s | {status} |",
            signal_name(&signal),
            took.as_secs_f64()
        );
    }
    println!("\n{prepared}");
    Ok(())
}

/// PID 1's name and the number of zombies in the container, from busybox's
/// `ps` inside it.
fn pid1_and_zombies(container: &Container) -> Result<(String, usize), String> {
    let listing = container.exec(&["/bin/ps", "-o", "pid,stat,comm"])?;
    let rows: Vec<Vec<&str>> = listing
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect())
        .collect();
    let pid1 = rows
        .iter()
        .find(|row| row.first() == Some(&"1"))
        .and_then(|row| row.get(2))
        .ok_or_else(|| format!("no PID 1 in ps: {listing}"))?;
    let zombies = rows
        .iter()
        .filter(|row| row.get(1).is_some_and(|stat| stat.starts_with('Z')))
        .count();
    Ok((pid1.to_string(), zombies))
}

/// `podman stop -t STOP_TIMEOUT`: how long it took, and the exit status.
fn stop(engine: &Engine, container: &Container) -> Result<(Duration, String), String> {
    let timeout = STOP_TIMEOUT.to_string();
    let started = Instant::now();
    engine.run(&["stop", "-t", &timeout, &container.name])?;
    let took = started.elapsed();
    let status = engine.run(&[
        "inspect",
        "--format",
        "{{.State.ExitCode}}",
        &container.name,
    ])?;
    Ok((took, status))
}

/// The stop signal as `podman inspect` gives it (a number or a name), named.
fn signal_name(signal: &str) -> String {
    match signal.trim() {
        "37" | "SIGRTMIN+3" => "SIGRTMIN+3 (37)".to_string(),
        "15" | "SIGTERM" => "SIGTERM (15)".to_string(),
        other => other.to_string(),
    }
}

/// One sentence: which of the paths systemd wants as tmpfs Podman mounted
/// so, and the `container` variable in PID 1's environment.
fn what_podman_prepared(container: &Container) -> Result<String, String> {
    let mounts = container.exec(&["/bin/cat", "/proc/mounts"])?;
    let tmpfs: Vec<String> = ["/run", "/run/lock", "/tmp", "/var/log/journal"]
        .iter()
        .filter(|path| {
            mounts.lines().any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(1) == Some(path) && fields.get(2) == Some(&"tmpfs")
            })
        })
        .map(|path| format!("`{path}`"))
        .collect();
    let environment = container.exec(&["/bin/cat", "/proc/1/environ"])?;
    let variable = environment
        .split('\0')
        .find(|entry| entry.starts_with("container="))
        .map_or("no `container` variable".to_string(), |entry| {
            format!("`{entry}`")
        });
    Ok(format!(
        "For systemd, Podman mounted a tmpfs on {} and gave PID 1 {variable} in its environment.",
        join_words(&tmpfs)
    ))
}

/// `a`, `a and b`, `a, b and c`.
fn join_words(words: &[String]) -> String {
    match words {
        [] => "nothing".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

// ANCHOR: image
/// Writes the image's files into `context` and builds it as `tag`: the
/// host's systemd and halt programs with every library `ldd` names for
/// them, the halt units, the book's units, and busybox as `/bin/sh`.
fn build_image(context: &Path, tag: &str) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(context);
    for program in std::iter::once(SYSTEMD).chain(HALT_PROGRAMS) {
        copy_in(context, Path::new(program))?;
        for library in libraries(program)? {
            copy_in(context, &library)?;
        }
    }
    for unit in HALT_UNITS {
        copy_in(context, &Path::new("/lib/systemd/system").join(unit))?;
    }
    let units = context.join("etc/systemd/system");
    write(&units, UNITS.iter().copied())?;
    write(
        &context.join("etc"),
        [("os-release", "ID=orphans\n"), ("machine-id", "")],
    )?;
    let busybox = orphans::containers::image::busybox_path();
    copy_to(&busybox, &context.join("bin/busybox"))?;
    for applet in ["sh", "sleep", "ps", "cat", "true"] {
        std::os::unix::fs::symlink("busybox", context.join("bin").join(applet))
            .map_err(|e| format!("link {applet}: {e}"))?;
    }
    write(context, [("Containerfile", "FROM scratch\nCOPY . /\n")])?;
    let containerfile = context.join("Containerfile").display().to_string();
    let context = context.display().to_string();
    let build = [
        "build",
        "-q",
        "--network",
        "none",
        "-t",
        tag,
        "-f",
        &containerfile,
        &context,
    ];
    orphans::containers::podman::engine().run(&build)?;
    Ok(())
}

/// The libraries `program` loads, as `ldd` lists them (every absolute
/// path in its output, the dynamic loader included).
fn libraries(program: &str) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| format!("ldd {program}: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
        .map(PathBuf::from)
        .collect())
}
// ANCHOR_END: image

/// Copies the host's `path` to the same path below `context`, following
/// symbolic links (the image gets the file itself).
fn copy_in(context: &Path, path: &Path) -> Result<(), String> {
    let relative = path.strip_prefix("/").unwrap_or(path);
    copy_to(path, &context.join(relative))
}

fn copy_to(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("mkdir {}: {e}", parent.display()))?;
    }
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copy {}: {e}", from.display()))
}

/// Writes each `(name, text)` as a file in `dir`.
fn write<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    for (name, text) in files {
        std::fs::write(dir.join(name), text).map_err(|e| format!("write {name}: {e}"))?;
    }
    Ok(())
}
