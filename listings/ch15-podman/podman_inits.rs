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
