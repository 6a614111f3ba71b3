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
/// PID 1; then starts a second command in it with `docker exec` and looks
/// at that command's parent too.
fn look(version: &str, image: &str) -> Result<(), String> {
    let docker = Engine::docker();
    let sleep = ["/bin/busybox", "sleep", "30"].map(String::from);
    let container = docker.create(&[], image, &sleep)?;
    container.start()?;
    let pid1 = container.host_pid()?;
    let parent = parent_of(pid1).ok_or("the container's PID 1 has gone")?;
    let grandparent = parent_of(parent).ok_or("its parent has gone")?;
    // `docker exec -d` returns once the command runs in the container.
    container.exec_detached(&EXEC)?;
    let exec = exec_command_of(pid1).ok_or("the command of docker exec is not running")?;
    let exec_parent = parent_of(exec).ok_or("the command of docker exec has gone")?;
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
        ("a command of `docker exec`", exec, exec_parent),
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
    println!("\n{}", verdict(parent, exec_parent));
    Ok(())
}

/// What the parents of the container's PID 1 and of the `docker exec`
/// command say, in one paragraph.
fn verdict(parent: i32, exec_parent: i32) -> String {
    let name = name_of(parent);
    let adopted = if name.starts_with("containerd-shim") {
        "The shim did not fork them: runc did, and when runc exited, the kernel handed its \
         orphans to the nearest subreaper above it, the shim."
    } else if parent == 1 {
        "That is the host's init: no subreaper stood between runc and init on this machine."
    } else {
        "That is the nearest subreaper above runc on this machine."
    };
    if exec_parent == parent {
        format!(
            "Both the container's PID 1 and the command of `docker exec` are children of \
             PID {parent}, `{name}`, outside the container. {adopted}"
        )
    } else {
        format!(
            "The container's PID 1 is a child of PID {parent}, `{name}`; the command of \
             `docker exec` is a child of PID {exec_parent}, `{}`.",
            name_of(exec_parent)
        )
    }
}
// ANCHOR_END: look

/// The command that `look` starts with `docker exec`.
const EXEC: [&str; 3] = ["/bin/busybox", "sleep", "29"];

/// The host PID of the process running [`EXEC`] in the container whose
/// PID 1 is `pid1`: found by its command line, and by its PID namespace
/// where `/proc/PID/ns/pid` may be read (it needs the right to trace).
/// `docker exec -d` may return before runc's helper has become the command
/// (execve), so this looks again for up to two seconds.
fn exec_command_of(pid1: i32) -> Option<i32> {
    for _ in 0..200 {
        if let Some(pid) = running_exec_command(pid1) {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

/// [`exec_command_of`]'s one look through `/proc`.
fn running_exec_command(pid1: i32) -> Option<i32> {
    let namespace = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let wanted = namespace(pid1);
    let runs_exec = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|line| {
            line.split(|&byte| byte == 0)
                .filter(|word| !word.is_empty())
                .eq(EXEC.iter().map(|word| word.as_bytes()))
        })
    };
    pids().into_iter().find(|&pid| {
        pid != pid1 && runs_exec(pid) && (wanted.is_none() || namespace(pid) == wanted)
    })
}

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
