//! A running container, from its engine's `inspect` and the host's `/proc`:
//! everything [`crate::verdict::judge`] needs, gathered into its `Facts`.

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use orphans::process::signals::Disposition;
use serde_json::Value;

use crate::hostproc::{self, Member};
use crate::inits::{self, last_part};
use crate::signals::{self, SIGTERM};
use crate::verdict::{Facts, Process, Zombie};

/// What the doctor takes from `ENGINE inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspected {
    pub name: String,
    /// The first 12 digits of the ID, as `docker ps` shows it.
    pub id: String,
    pub running: bool,
    /// `running`, `exited`, `created`, …
    pub status: String,
    /// The host PID of the container's first process.
    pub pid: i32,
    /// `STOPSIGNAL` or `--stop-signal`, as the engine keeps it (a name or
    /// a number); `None` for the default.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`; `None` for the engine's default of 10 s.
    pub stop_timeout: Option<u32>,
    /// `host`, `container:ID`, or empty (Podman: `private`) for its own.
    pub pid_mode: String,
}

/// The seconds `docker stop` and `podman stop` wait by default.
const DEFAULT_STOP_TIMEOUT: u32 = 10;

/// Reads the JSON that `docker inspect` or `podman inspect` printed for
/// one container (an array of one object). `Err` when it is not that.
pub fn parse_inspect(json: &str) -> Result<Inspected, String> {
    let all: Value =
        serde_json::from_str(json).map_err(|e| format!("the engine's inspect is not JSON: {e}"))?;
    let one = all.get(0).unwrap_or(&all);
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let stop_signal = match &one["Config"]["StopSignal"] {
        Value::String(name) if !name.is_empty() => Some(name.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    let id = text(&one["Id"]);
    if id.is_empty() {
        return Err("the engine's inspect names no container".into());
    }
    Ok(Inspected {
        name: text(&one["Name"]).trim_start_matches('/').to_string(),
        id: id.chars().take(12).collect(),
        running: one["State"]["Running"].as_bool().unwrap_or(false),
        status: text(&one["State"]["Status"]),
        pid: one["State"]["Pid"]
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or(0),
        stop_signal,
        stop_timeout: one["Config"]["StopTimeout"]
            .as_u64()
            .and_then(|t| u32::try_from(t).ok()),
        pid_mode: text(&one["HostConfig"]["PidMode"]),
    })
}

/// Gathers the facts on a running container; `Err` is the one line that
/// says why the host's `/proc` cannot show them.
pub fn examine(engine: &str, inspected: &Inspected) -> Result<Facts, String> {
    let name = &inspected.name;
    let first = inspected.pid;
    let (namespace, pid1_host, first_inside) = locate(engine, inspected)?;
    let pid1 = process(pid1_host, 1);
    let (init, shell) = who(&pid1);
    let first_process = (pid1_host != first).then(|| process(first, first_inside));
    let stop_signal = match &inspected.stop_signal {
        Some(text) => signals::parse(text).map_err(|e| format!("{name}'s stop signal: {e}"))?,
        None => SIGTERM,
    };
    // What PID 1 (or, in a pod, the container's own first process) does
    // with the stop signal, and what PID 1 does with SIGCHLD.
    let gone = |host_pid: i32| format!("host PID {host_pid} of {name} is gone");
    let stop_disposition = Disposition::of_number(first, stop_signal).ok_or_else(|| gone(first))?;
    let sigchld = Disposition::of(pid1_host, Signal::SIGCHLD).ok_or_else(|| gone(pid1_host))?;
    Ok(Facts {
        engine: engine.to_string(),
        // Living children: a zombie child is listed with the zombies.
        children: hostproc::children(pid1_host)
            .into_iter()
            .filter(|&child| foster::procfs::state(child).is_some_and(|s| s != 'Z'))
            .filter_map(|child| Some(process(child, hostproc::pid_inside(child)?)))
            .collect(),
        stop_disposition,
        sigchld,
        zombies: lasting_zombies(&namespace),
        stop_signal,
        // Podman always names one (15 by default): only another counts.
        stop_signal_named: stop_signal != SIGTERM,
        stop_timeout: inspected.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT),
        pid1,
        first: first_process,
        init,
        shell,
        orphan_test: None,
    })
}

/// Where a running container's processes are in the host's `/proc`: its
/// PID namespace, the host PID of that namespace's PID 1, and the PID the
/// container's first process has inside (1, unless the container joined
/// another's namespace). `Err` says why they cannot be found here.
fn locate(engine: &str, inspected: &Inspected) -> Result<(PathBuf, i32, i32), String> {
    let (name, first) = (&inspected.name, inspected.pid);
    if !inspected.running || first <= 0 {
        return Err(format!(
            "container {name} is not running ({})",
            inspected.status
        ));
    }
    let status = hostproc::status(first).map_err(|e| {
        format!(
            "{engine} says the first process of {name} is host PID {first}, which this /proc does not show ({e}): the engine runs in another PID namespace (a VM, another machine, rootless Docker's own namespace) or the doctor does"
        )
    })?;
    let namespace = hostproc::pid_namespace(first).map_err(|e| {
        format!("may not read /proc/{first}/ns/pid ({e}): the processes of {name} belong to another user; run the doctor as root")
    })?;
    let levels = hostproc::ns_pids(&status);
    if inspected.pid_mode == "host" || levels.len() < 2 {
        return Err(format!(
            "{name} has no PID namespace of its own here (PID mode `{}`, NSpid {levels:?}): its PID 1 is the host's init",
            inspected.pid_mode
        ));
    }
    let pid1_host = hostproc::members(&namespace)
        .iter()
        .find(|m| m.pid == 1)
        .map(|m| m.host_pid)
        .ok_or_else(|| {
            format!("no process of {name}'s PID namespace is its PID 1 (it is ending?)")
        })?;
    let first_inside = levels.last().copied().unwrap_or(0);
    Ok((namespace, pid1_host, first_inside))
}

/// A process by its host PID, with `pid` its PID in the container.
fn process(host_pid: i32, pid: i32) -> Process {
    Process {
        pid,
        host_pid,
        comm: hostproc::comm(host_pid),
        args: hostproc::command_line(host_pid),
    }
}

/// Whether PID 1 is a known init (and its mode), or a shell (and how it
/// runs). Its bytes are read only when its name does not say.
fn who(
    pid1: &Process,
) -> (
    Option<(inits::KnownInit, inits::Mode)>,
    Option<inits::ShellRun>,
) {
    let exe = hostproc::executable_name(pid1.host_pid).unwrap_or_default();
    let argv0 = pid1.args.first().map_or("", |a| last_part(a));
    let names = [pid1.comm.as_str(), argv0, exe.as_str()];
    let bytes = names
        .iter()
        .any(|n| inits::is_generic_name(n))
        .then(|| hostproc::executable(pid1.host_pid))
        .flatten();
    match inits::identify(&names, bytes.as_deref()) {
        Some(init) => (Some((init, inits::mode(init, &pid1.args))), None),
        None => (None, inits::shell_run(&pid1.comm, &pid1.args)),
    }
}

/// The zombies of the namespace that are still zombies a moment later (a
/// zombie that an init is about to reap is no problem).
fn lasting_zombies(namespace: &PathBuf) -> Vec<Zombie> {
    let zombies = |members: Vec<Member>| -> Vec<Member> {
        members.into_iter().filter(|m| m.state == 'Z').collect()
    };
    let before = zombies(hostproc::members(namespace));
    if before.is_empty() {
        return Vec::new();
    }
    std::thread::sleep(Duration::from_millis(200));
    let after = zombies(hostproc::members(namespace));
    before
        .into_iter()
        .filter(|zombie| after.contains(zombie))
        .map(|zombie| Zombie {
            pid: zombie.pid,
            comm: hostproc::comm(zombie.host_pid),
            parent: hostproc::pid_inside(zombie.parent_host_pid).unwrap_or(0),
            parent_comm: hostproc::comm(zombie.parent_host_pid),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_podman_inspect() {
        let docker = r#"[{"Id":"3f2a1b0c9d8e7f6a5b4c","Name":"/web","State":{"Status":"running","Running":true,"Pid":4242},
            "Config":{"StopSignal":"SIGQUIT","StopTimeout":null},"HostConfig":{"PidMode":""}}]"#;
        let web = parse_inspect(docker).expect("docker's");
        assert_eq!(
            web,
            Inspected {
                name: "web".into(),
                id: "3f2a1b0c9d8e".into(),
                running: true,
                status: "running".into(),
                pid: 4242,
                stop_signal: Some("SIGQUIT".into()),
                stop_timeout: None,
                pid_mode: String::new(),
            }
        );
        let podman = r#"[{"Id":"ab12","Name":"db","State":{"Status":"exited","Running":false,"Pid":0},
            "Config":{"StopSignal":15,"StopTimeout":10},"HostConfig":{"PidMode":"private"}}]"#;
        let db = parse_inspect(podman).expect("podman's");
        assert_eq!(db.stop_signal.as_deref(), Some("15"));
        assert_eq!(db.stop_timeout, Some(10));
        assert!(!db.running);
        assert!(examine("podman", &db)
            .unwrap_err()
            .contains("not running (exited)"));
        assert!(parse_inspect("[]").is_err());
        assert!(parse_inspect("no").is_err());
    }
}
