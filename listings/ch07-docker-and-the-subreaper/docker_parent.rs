//! Who is the parent of a Docker container's PID 1, seen from the host?
//! Prints a markdown table, or one line saying why it could not look.

use orphans::capability::built_image;
use orphans::containers::docker::engine_version;
use orphans::containers::engine::Engine;
use orphans::process::procfs::{comm, parent_of, pids};
use orphans::table::{header_aligned, Align};

fn main() {
    // The image is the book's (chapter 5); this program only uses it, so
    // that it can run on its own as a test of the chapter's code.
    let image = match built_image() {
        Ok(image) => image,
        Err(missing) => {
            println!("{}", missing.line("The look at a container from the host"));
            return;
        }
    };
    let looked = engine_version().and_then(|version| look(&version, &image));
    if let Err(message) = looked {
        eprintln!("docker_parent: {message}");
        std::process::exit(1);
    }
}

// ANCHOR: look
/// Starts a container of `image` that only sleeps, and walks up from its
/// PID 1.
fn look(version: &str, image: &str) -> Result<(), String> {
    let docker = Engine::docker();
    let sleep = ["/bin/busybox", "sleep", "30"].map(String::from);
    let container = docker.create(&[], image, &sleep)?;
    container.start()?;
    let pid1 = container.host_pid()?;
    let parent = parent_of(pid1).ok_or("the container's PID 1 has gone")?;
    let grandparent = parent_of(parent).ok_or("its parent has gone")?;
    println!("Docker engine {version}, container `/bin/busybox sleep 30`, seen from the host:\n");
    let columns = [
        ("process", Align::Left),
        ("host PID", Align::Right),
        ("its parent", Align::Right),
        ("the parent's name", Align::Left),
    ];
    println!("{}", header_aligned(&columns));
    for (what, pid, ppid) in [
        ("the container's PID 1", pid1, parent),
        ("its parent", parent, grandparent),
    ] {
        let name = comm(ppid).unwrap_or_else(|| "-".into());
        println!(
            "| {what} (`{}`) | {pid} | {ppid} | `{name}` |",
            name_of(pid)
        );
    }
    let runcs: Vec<i32> = pids()
        .into_iter()
        .filter(|&p| comm(p).as_deref() == Some("runc"))
        .collect();
    let executable = std::fs::read_link(format!("/proc/{parent}/exe"))
        .map_or_else(|_| "?".into(), |path| path.display().to_string());
    println!(
        "\nThe parent runs `{executable}`. Processes named `runc` running now: {}.",
        listed(&runcs)
    );
    Ok(())
}
// ANCHOR_END: look

fn name_of(pid: i32) -> String {
    comm(pid).unwrap_or_else(|| "?".into())
}

fn listed(pids: &[i32]) -> String {
    if pids.is_empty() {
        return "none".into();
    }
    pids.iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
