//! A census of a PID namespace: every process its `/proc` lists, with its
//! parent, state and command line. The `census` program takes one inside
//! a container (`docker exec NAME census`) and prints it as JSON; the
//! chapters' table tools read it back with [`from_json`], so that they
//! learn who adopted whom without any access to the host's `/proc`.

use orphans::containers::engine::Container;
use orphans::process::procfs::{comm, parent_of, pids, state};
use serde_json::{json, Value};

/// One process, as its PID namespace sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    /// 0 when the parent is outside the namespace: the first process of a
    /// container, or one that `docker exec` started (the engine's shim is
    /// the parent, on the host).
    pub ppid: i32,
    /// The one-letter state of `/proc/PID/stat`: `Z` for a zombie.
    pub state: char,
    /// `/proc/PID/comm`: the name of the executable (for busybox's applets,
    /// the name of the link that started it: `sleep`).
    pub comm: String,
    /// `/proc/PID/cmdline` with spaces between the arguments; empty for a
    /// zombie, whose memory, command line included, is gone.
    pub args: String,
}

/// Every process of the caller's PID namespace except the caller, by PID.
pub fn gather() -> Vec<Process> {
    let me = std::process::id() as i32;
    let mut processes: Vec<Process> = pids()
        .into_iter()
        .filter(|&pid| pid != me)
        .filter_map(|pid| {
            Some(Process {
                pid,
                ppid: parent_of(pid)?,
                state: state(pid)?,
                comm: comm(pid).unwrap_or_default(),
                args: command_line(pid),
            })
        })
        .collect();
    processes.sort_by_key(|process| process.pid);
    processes
}

/// The arguments of `pid` joined by spaces (proc(5): they are separated by
/// NUL bytes, and the file is empty for a zombie).
fn command_line(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw)
        .split('\0')
        .filter(|arg| !arg.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn to_json(processes: &[Process]) -> String {
    let rows: Vec<Value> = processes
        .iter()
        .map(|p| {
            json!({"pid": p.pid, "ppid": p.ppid, "state": p.state.to_string(),
                   "comm": p.comm, "args": p.args})
        })
        .collect();
    Value::Array(rows).to_string()
}

/// Reads what `census` printed; `Err` says what was wrong with it.
pub fn from_json(text: &str) -> Result<Vec<Process>, String> {
    let value: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("the census is not JSON: {e}"))?;
    let rows = value.as_array().ok_or("the census is not a JSON array")?;
    rows.iter().map(process_of).collect()
}

fn process_of(row: &Value) -> Result<Process, String> {
    let number = |key: &str| {
        row[key]
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or(format!("a census row without a number '{key}': {row}"))
    };
    let text = |key: &str| row[key].as_str().unwrap_or_default().to_string();
    Ok(Process {
        pid: number("pid")?,
        ppid: number("ppid")?,
        state: text("state").chars().next().unwrap_or('?'),
        comm: text("comm"),
        args: text("args"),
    })
}

/// Every process of `container`'s PID namespace, as the book's `census`
/// (in the project's image) sees it from inside (`exec /bin/census`).
pub fn of_container(container: &Container) -> Result<Vec<Process>, String> {
    from_json(&container.exec(&["/bin/census"])?)
}

/// The process with PID `pid`, if the census has it.
pub fn by_pid(processes: &[Process], pid: i32) -> Option<&Process> {
    processes.iter().find(|p| p.pid == pid)
}

/// The first process whose command line is exactly `args`.
pub fn by_args<'a>(processes: &'a [Process], args: &str) -> Option<&'a Process> {
    processes.iter().find(|p| p.args == args)
}

/// The zombies of the census.
pub fn zombies(processes: &[Process]) -> Vec<&Process> {
    processes.iter().filter(|p| p.state == 'Z').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_census_survives_its_trip_through_json() {
        let processes = vec![
            Process {
                pid: 1,
                ppid: 0,
                state: 'S',
                comm: "pause".into(),
                args: "pause --no-reap".into(),
            },
            Process {
                pid: 9,
                ppid: 1,
                state: 'Z',
                comm: "sleep".into(),
                args: String::new(),
            },
        ];
        let back = from_json(&to_json(&processes)).expect("parse");
        assert_eq!(back, processes);
        assert_eq!(zombies(&back).len(), 1);
        assert_eq!(by_args(&back, "pause --no-reap").map(|p| p.pid), Some(1));
        assert_eq!(by_pid(&back, 9).map(|p| p.ppid), Some(1));
    }

    #[test]
    fn a_broken_census_is_an_error() {
        assert!(from_json("not json").is_err());
        assert!(from_json("{}").is_err());
        assert!(from_json(r#"[{"pid": "one"}]"#).is_err());
    }

    #[test]
    fn our_own_namespace_has_our_parent_but_not_us() {
        let processes = gather();
        let me = std::process::id() as i32;
        assert!(by_pid(&processes, me).is_none());
        let parent = nix::unistd::getppid().as_raw();
        assert!(by_pid(&processes, parent).is_some(), "{processes:?}");
    }
}
