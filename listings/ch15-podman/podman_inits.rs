//! `podman-inits`: what `podman run --init` puts in a container as PID 1,
//! with Podman's own init and with foster as `--init-path`, and whether
//! this machine's Podman runs a container without the book's `--ulimit`
//! options. Chapter 15 runs it; it prints markdown.

use orphans::capability::podman_ready;
use orphans::containers::podman::Ready;
use orphans::namespace::census;
use orphans::table;

// ANCHOR: main
fn main() {
    let ready = match podman_ready() {
        Ok(ready) => ready,
        Err(missing) => {
            println!("{}", missing.line("This experiment"));
            return;
        }
    };
    let foster = ready.foster.to_string_lossy().into_owned();
    let setups: [(&str, Vec<String>); 2] = [
        ("`--init`", vec!["--init".into()]),
        (
            "`--init --init-path` foster",
            vec!["--init".into(), "--init-path".into(), foster],
        ),
    ];
    let headings = [
        "`podman run`",
        "PID 1's command line",
        "`/run/podman-init --version`",
    ];
    println!("{}", table::header(&headings));
    for (label, options) in &setups {
        match look_inside(&ready, options) {
            Ok((command_line, version)) => {
                println!("| {label} | `{command_line}` | `{version}` |")
            }
            Err(e) => println!("| {label} | *failed:* {e} | |"),
        }
    }
    println!();
    match who_holds_pid1(&ready) {
        Ok(sentence) => println!("{sentence}\n"),
        Err(e) => println!("*Who is the parent of PID 1 could not be read:* {e}\n"),
    }
    println!("{}", without_rlimits(&ready));
    if let Ok(version) = ready
        .engine
        .run(&["version", "--format", "{{.Client.Version}}"])
    {
        println!("\nThe Podman that ran these containers is version {version}.");
    }
}

/// Starts `sleep 1000` with `options` and asks, from inside, what PID 1's
/// command line is and what the init mounted at `/run/podman-init` says
/// its version is.
fn look_inside(ready: &Ready, options: &[String]) -> Result<(String, String), String> {
    let command = ["/bin/sleep".to_string(), "1000".to_string()];
    let container = ready.engine.create(options, &ready.image, &command)?;
    container.start()?;
    let processes = census::of_container(&container)?;
    let pid1 = census::by_pid(&processes, 1).ok_or("no PID 1 in the census")?;
    let version = container.exec(&["/run/podman-init", "--version"])?;
    Ok((pid1.args.clone(), version))
}
// ANCHOR_END: main

// ANCHOR: rlimits
/// One sentence: does a container start here without `--ulimit`?
fn without_rlimits(ready: &Ready) -> String {
    let run = ["run", "--rm", "--network", "none", &ready.image, "true"];
    match ready.engine.run(&run) {
        Ok(_) => "On this machine a container also starts without the `--ulimit` \
                  options: its Podman may raise the limits."
            .to_string(),
        Err(e) => {
            // runc's error is a chain of causes: the last one says it.
            let said = e.to_string();
            let cause = said.rsplit("container init: ").next().unwrap_or(&said);
            format!(
                "On this machine a container does not start without the `--ulimit` \
                 options: *{cause}*"
            )
        }
    }
}
// ANCHOR_END: rlimits

// ANCHOR: conmon
/// One sentence, from a container of `sleep 1000` without an init: the OCI
/// runtime that Podman used for it, and what the parent of the container's
/// first process is, seen from the host (`podman inspect` gives both PIDs).
fn who_holds_pid1(ready: &Ready) -> Result<String, String> {
    let command = ["/bin/sleep".to_string(), "1000".to_string()];
    let container = ready.engine.create(&[], &ready.image, &command)?;
    container.start()?;
    let format = "{{.OCIRuntime}} {{.State.Pid}} {{.State.ConmonPid}}";
    let answer = ready
        .engine
        .run(&["inspect", "--format", format, &container.name])?;
    let [runtime, pid, conmon] = answer.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(format!("podman inspect answered {answer:?}"));
    };
    let parent = host_field(pid, "PPid")?;
    let parent_name = host_field(&parent, "Name")?;
    let whose = if parent == conmon {
        "conmon, the monitor Podman left for the container"
    } else {
        "not the conmon that `podman inspect` names"
    };
    Ok(format!(
        "On this machine Podman ran its containers with the OCI runtime `{runtime}`. \
         Seen from the host, the parent of a container's first process (host PID {pid}) \
         is `{parent_name}` (PID {parent}): {whose}."
    ))
}

/// A field of `/proc/PID/status` on the host, such as `PPid` or `Name`.
fn host_field(pid: &str, field: &str) -> Result<String, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(|value| value.trim().to_string())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))
}
// ANCHOR_END: conmon
