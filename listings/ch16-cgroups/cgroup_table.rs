//! `cgroup-table`: chapter 16's measurements of control groups: the pids
//! controller against zombies, Docker's default pids limit, and
//! `cgroup.kill` against killing PID 1. Each table is made in a cgroup of
//! its own, created for the run and removed afterwards.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use orphans::capability::{self, image_or_missing};
use orphans::cgroup::{may_make_groups, pids_hierarchy, v2_hierarchy, Group, Hierarchy};
use orphans::cli::{self, Request};
use orphans::containers::engine::{Engine, PATIENCE};
use orphans::missing::{Missing, NotShown};
use orphans::process::deadline::{poll_until, TICK};
use orphans::process::procfs::children;
use orphans::process::spawn::{path_with_siblings, sibling};
use serde_json::Value;

const USAGE: &str = "\
usage: cgroup-table --pids | --docker | --kill

Prints one markdown table, measured in a cgroup made for the run:

  --pids     orphan-maker -n 40 --one-by-one under two PID 1s (naive-init,
             foster) in a cgroup whose pids.max is 20: zombies, failed
             forks, and the pids controller's own counts (pids.peak,
             pids.events)
  --docker   the pids.max that a container of the book's image gets from
             `docker run`, with and without --pids-limit
  --kill     three ways to end a container: SIGKILL to PID 1 of a PID
             namespace, SIGKILL to the main process of a group without
             one, and cgroup.kill (cgroup v2, Linux 5.14)
  -V, --version  show the version
  -h, --help     show this help";

/// The limit of the `--pids` table, and how many orphans try to pass it.
const PIDS_MAX: u32 = 20;
const ORPHANS: u32 = 40;

fn main() {
    let table = cli::options_or_exit("cgroup-table", USAGE, parse);
    let (experiment, shown) = match table {
        Table::Pids => ("The table of pids.max against zombies", pids_table()),
        Table::Docker => ("The table of Docker's pids limits", docker_table()),
        Table::Kill => ("The table of cgroup.kill", kill_table()),
    };
    orphans::missing::finish("cgroup-table", experiment, shown);
}

// ---------------------------------------------------------------------------
// --pids

// ANCHOR: pids
/// `container PID1 orphan-maker -n 40` in a group limited to 20 processes:
/// the table's row, and orphan-maker's account of a fork that failed. The
/// orphans come one by one, each once the one before has been reaped or
/// has had a tenth of a second to be, so that a busy machine, on which
/// PID 1 waits its turn for a CPU, does not fill the group for it.
fn pids_row(hierarchy: &Hierarchy, pid1: &str) -> Result<(String, Option<String>), String> {
    let group = Group::new(&hierarchy.dir, "ch16")?;
    group.set("pids.max", &PIDS_MAX.to_string())?;
    let mut command = Command::new(sibling("container"));
    command
        .args([pid1, "orphan-maker", "--format", "json", "--one-by-one"])
        .args(["--settle", "0.1"])
        .args(["-n", &ORPHANS.to_string()])
        .env("PATH", path_with_siblings());
    let output = group
        .enter(&mut command)?
        .output()
        .map_err(|e| format!("running container: {e}"))?;
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        format!("orphan-maker's report ({e}): {}", stderr.trim())
    })?;
    let count = |key: &str| report[key].as_array().map_or(0, Vec::len);
    let row = format!(
        "| `{pid1}` | {} | {} | {} | {} | `{}` |",
        group.read("pids.max"),
        count("orphans"),
        count("zombies"),
        group.read("pids.peak"),
        group.read("pids.events").replace('\n', ", "),
    );
    Ok((row, report["fork_failure"].as_str().map(short_failure)))
}
// ANCHOR_END: pids

/// orphan-maker's account of a refused fork ("orphan 17: fork: EAGAIN: Try
/// again"), shorter: "orphan 17: EAGAIN".
fn short_failure(failure: &str) -> String {
    let (which, rest) = failure.split_once(": ").unwrap_or((failure, ""));
    match rest.split(": ").find(|word| word.starts_with('E')) {
        Some(errno) => format!("{which}: {errno}"),
        None => failure.to_string(),
    }
}

fn pids_table() -> Result<(), NotShown> {
    capability::namespaces()?;
    let hierarchy = pids_hierarchy()?;
    may_make_groups(&hierarchy.dir)?;
    println!("| PID 1 | `pids.max` | orphans made | zombies left | `pids.peak` | `pids.events` |");
    println!("|---|---|---|---|---|---|");
    let mut refused = Vec::new();
    for pid1 in ["naive-init", "foster"] {
        eprintln!("cgroup-table: {pid1} orphan-maker -n {ORPHANS} with pids.max {PIDS_MAX}");
        let (row, failure) = pids_row(&hierarchy, pid1)?;
        println!("{row}");
        if let Some(failure) = failure {
            refused.push(format!("under `{pid1}`, {failure}"));
        }
    }
    if !refused.is_empty() {
        println!("\nThe fork the limit refused: {}.", refused.join("; "));
    }
    println!(
        "\n*Measured with the pids controller of cgroup v{}.*",
        hierarchy.version
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// --docker

// ANCHOR: docker
/// What a container sees as its own `pids.max`: the file at the top of its
/// cgroup tree (cgroup v2), or of its pids tree (v1).
const READ_PIDS_MAX: &str =
    "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max";

fn docker_row(image: &str, options: &[&str]) -> Result<String, String> {
    let mut args = options.to_vec();
    args.extend([image, "/bin/sh", "-c", READ_PIDS_MAX]);
    let seen = Engine::docker().run_container("pids-max", &args, PATIENCE)?;
    let shown = match options {
        [] => "`docker run IMAGE`".to_string(),
        _ => format!("`docker run {} IMAGE`", options.join(" ")),
    };
    Ok(format!("| {shown} | `{seen}` |"))
}
// ANCHOR_END: docker

fn docker_table() -> Result<(), NotShown> {
    let image = image_or_missing()?.reference;
    println!("| how the container is started | its `pids.max` |");
    println!("|---|---|");
    let mut unlimited = None;
    for options in [
        &[][..],
        &["--pids-limit", "-1"][..],
        &["--pids-limit", "100"][..],
    ] {
        let row = docker_row(&image, options)?;
        println!("{row}");
        if options.is_empty() {
            unlimited = Some(row.ends_with("| `max` |"));
        }
    }
    let info = ["info", "--format", "{{.CgroupDriver}} {{.CgroupVersion}}"];
    let driver = Engine::docker().run(&info).map_err(String::from)?;
    println!("\n{}", docker_verdict(&driver, unlimited == Some(true)));
    Ok(())
}

/// The sentence under the table: which cgroup driver and version this
/// machine's engine uses (`driver_and_version`, as `docker info` gives
/// them), and what that made of a container without `--pids-limit`.
fn docker_verdict(driver_and_version: &str, unlimited: bool) -> String {
    let (driver, version) = driver_and_version
        .split_once(' ')
        .unwrap_or((driver_and_version, "?"));
    let setup =
        format!("This machine's Docker uses the `{driver}` cgroup driver on cgroup v{version}");
    match (driver, unlimited) {
        (_, true) => format!("{setup}: without `--pids-limit` a container has no pids limit."),
        ("systemd", false) => format!(
            "{setup}: even without `--pids-limit`, or with `-1`, a container's scope \
             gets the limit systemd gives every unit, `DefaultTasksMax`."
        ),
        (_, false) => format!("{setup}: without `--pids-limit` a container still has a limit."),
    }
}

// ---------------------------------------------------------------------------
// --kill

/// The workload of the `--kill` rows: a main process with three children,
/// one of them in a session of its own. `exec` keeps them from being
/// anything but `sleep`.
const WORKLOAD: &str = "sleep 60 & sleep 60 & setsid sleep 60 & wait";

/// How a `--kill` row ends its group.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// SIGKILL to PID 1 of the group's own PID namespace.
    Pid1OfNamespace,
    /// SIGKILL to the main process of a group without a PID namespace, as
    /// with `docker run --pid=host`.
    MainProcessOnly,
    /// `echo 1 > cgroup.kill`.
    CgroupKill,
}

// ANCHOR: kill
/// Starts the workload in a fresh group, ends it as `ending` says, and
/// reports how many processes were left and when the group was empty.
fn kill_row(hierarchy: &Path, ending: Ending) -> Result<String, String> {
    let group = Group::new(hierarchy, "ch16")?;
    let mut command = if ending == Ending::Pid1OfNamespace {
        let mut command = Command::new(sibling("container"));
        command.args(["/bin/sh", "-c", WORKLOAD]);
        command
    } else {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", WORKLOAD]);
        command
    };
    let mut child = group
        .enter(&mut command)?
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the workload: {e}"))?;
    let result = end_group(&group, &mut child, ending);
    // Whatever happened, nothing may outlive the row: cgroup.kill, then
    // reap what came back to us (we are a subreaper).
    let _ = group.set("cgroup.kill", "1");
    let _ = child.wait();
    reap_adopted();
    result
}

fn end_group(group: &Group, child: &mut Child, ending: Ending) -> Result<String, String> {
    // `container` (if any), the shell and its three sleeps.
    let expected = if ending == Ending::Pid1OfNamespace {
        5
    } else {
        4
    };
    poll_until(Duration::from_secs(5), TICK, || {
        (group.processes().len() >= expected).then_some(())
    })
    .ok_or("the workload did not start within 5 s")?;
    let before = group.processes().len();
    let started = Instant::now();
    match ending {
        Ending::Pid1OfNamespace => kill_pid1_of(child)?,
        Ending::MainProcessOnly => {
            kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL)
                .map_err(|e| format!("kill: {e}"))?;
        }
        Ending::CgroupKill => group.set("cgroup.kill", "1")?,
    }
    let emptied = poll_until(Duration::from_secs(1), TICK, || {
        group.processes().is_empty().then_some(())
    });
    let left = group.processes().len();
    let empty = match emptied {
        Some(()) => format!("{:.1} ms", started.elapsed().as_secs_f64() * 1000.0),
        None => "not within 1 s".to_string(),
    };
    Ok(format!(
        "| {} | {before} | {left} | {empty} |",
        match ending {
            Ending::Pid1OfNamespace => "SIGKILL to PID 1 of its PID namespace",
            Ending::MainProcessOnly => "SIGKILL to the main process, no PID namespace",
            Ending::CgroupKill => "`echo 1 > cgroup.kill`, no PID namespace",
        }
    ))
}
// ANCHOR_END: kill

/// SIGKILL to PID 1 of the namespace that `container` started.
fn kill_pid1_of(container: &Child) -> Result<(), String> {
    let pid1 = children(container.id() as i32)
        .into_iter()
        .next()
        .ok_or("container has no PID 1")?;
    kill(Pid::from_raw(pid1), Signal::SIGKILL).map_err(|e| format!("kill: {e}"))
}

/// Reaps the children that came to us, once they have all died (or after
/// a second: a row never waits for ever).
fn reap_adopted() {
    poll_until(Duration::from_secs(1), TICK, || loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            // Some are still alive: look again after a tick.
            Ok(WaitStatus::StillAlive) => return None,
            // One reaped: there may be more at once.
            Ok(_) => continue,
            // ECHILD: no child left.
            Err(_) => return Some(()),
        }
    });
}

fn kill_table() -> Result<(), NotShown> {
    capability::namespaces()?;
    let v2 = v2_hierarchy()?;
    let hierarchy = v2.dir.clone();
    may_make_groups(&hierarchy)?;
    let probe = Group::new(&hierarchy, "ch16")?;
    if !probe.dir.join("cgroup.kill").exists() {
        return Err(Missing::new(
            "`cgroup.kill`",
            "this kernel is older than Linux 5.14",
            "run on Linux 5.14 or later",
        )
        .into());
    }
    drop(probe);
    // The sleeps whose parent is killed come to us rather than to the
    // machine's init, so that we can reap them (prctl(2)).
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("prctl: {e}"))?;
    println!("| how the group is ended | processes in it | left, up to 1 s later | empty after |");
    println!("|---|---|---|---|");
    for ending in [
        Ending::Pid1OfNamespace,
        Ending::MainProcessOnly,
        Ending::CgroupKill,
    ] {
        println!("{}", kill_row(&hierarchy, ending)?);
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Table {
    Pids,
    Docker,
    Kill,
}

/// The table to print; the last option that names one wins.
fn parse(args: Vec<OsString>) -> Result<Request<Table>, String> {
    use lexopt::prelude::*;
    let mut table = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("pids") => table = Some(Table::Pids),
            Long("docker") => table = Some(Table::Docker),
            Long("kill") => table = Some(Table::Kill),
            other => return cli::other(other),
        }
    }
    let table = table.ok_or("say which table: --pids, --docker or --kill")?;
    Ok(Request::Run(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn one_table_is_named() {
        assert_eq!(options(parse, &["--pids"]), Table::Pids);
        assert_eq!(options(parse, &["--docker"]), Table::Docker);
        assert_eq!(
            short_failure("orphan 17: fork: EAGAIN: Try again"),
            "orphan 17: EAGAIN"
        );
        assert_eq!(short_failure("something else"), "something else");
        assert!(
            docker_verdict("cgroupfs 1", true).contains("`cgroupfs` cgroup driver on cgroup v1")
        );
        assert!(docker_verdict("systemd 2", false).contains("DefaultTasksMax"));
        assert_eq!(options(parse, &["--pids", "--kill"]), Table::Kill);
        help_and_version(parse);
        for (args, reason) in [
            (&[][..], "say which table"),
            (&["--traps"], "--traps"),
            (&["--kill", "now"], "unexpected"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
