//! What the probe learns about its three processes, how those facts travel
//! back to the root, and the tables it prints.

use std::ffi::{CStr, OsStr};
use std::fmt::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::str::FromStr;

use orphans::probe::picture::{Edge, Link, Node, Panel, State};

/// Which of the probe's three processes a row describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Root,
    Child,
    Grandchild,
}

impl Role {
    /// The name printed in the table's first column.
    pub fn title(self) -> &'static str {
        match self {
            Role::Root => "Root",
            Role::Child => "Child",
            Role::Grandchild => "Grandchild",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Child => "child",
            Role::Grandchild => "grandchild",
        }
    }
}

// ANCHOR: record
/// What a child or grandchild sends up the pipe before it exits: a few
/// integers in a fixed-size buffer, so that writing it allocates nothing
/// (a forked child may only make async-signal-safe calls, signal-safety(7)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub role: Role,
    pub pid: i32,
    pub ppid: i32,
    /// The grandchild's parent when it was born (the child); 0 for others.
    pub ppid_at_birth: i32,
    /// PID in the namespace that mounted the procfs read (the host's, see
    /// [`host_pids_visible`]); 0 if unknown.
    pub host_pid: i32,
    /// True when the grandchild gave up waiting to be reparented.
    pub timed_out: bool,
}

/// Size of one encoded [`Record`]: six native-endian `i32`s. Pipe writes of
/// up to PIPE_BUF bytes are atomic (pipe(7)), so records never interleave.
pub const RECORD_SIZE: usize = 6 * 4;
// ANCHOR_END: record

/// What `readlink /proc/self/ns/pid` shows in the host's PID namespace, the
/// first one: its inode number is a constant of the kernel
/// (`PROC_PID_INIT_INO`, include/linux/proc_ns.h).
pub const HOST_PID_NAMESPACE: &str = "pid:[4026531836]";

/// Whether the PIDs that the status file `status` (a `/proc/self/status`)
/// gives are host PIDs. They are outside any container, where our PIDs are
/// the host's; and through a procfs of an outer namespace (`--host-proc`),
/// whose `NSpid:` line then lists more than one number, the outer one
/// first (proc(5)). Inside a container with only its own `/proc`, nothing
/// tells the host's numbers: they are unknown.
pub fn host_pids_visible(status: &CStr) -> bool {
    let in_host_namespace = std::fs::read_link("/proc/self/ns/pid")
        .is_ok_and(|namespace| namespace.as_os_str() == HOST_PID_NAMESPACE);
    let status = Path::new(OsStr::from_bytes(status.to_bytes()));
    let numbers = std::fs::read_to_string(status)
        .ok()
        .and_then(|text| nspid_count(&text))
        .unwrap_or(0);
    in_host_namespace || numbers > 1
}

/// How many PIDs the `NSpid:` line of a status file lists: one per PID
/// namespace from the procfs's down to the process's own.
fn nspid_count(status: &str) -> Option<usize> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("NSpid:"))
        .map(|pids| pids.split_whitespace().count())
}

impl Record {
    /// Encodes the record for the pipe, without allocating.
    pub fn to_bytes(self) -> [u8; RECORD_SIZE] {
        let role = match self.role {
            Role::Root => 0,
            Role::Child => 1,
            Role::Grandchild => 2,
        };
        let fields = [
            role,
            self.pid,
            self.ppid,
            self.ppid_at_birth,
            self.host_pid,
            i32::from(self.timed_out),
        ];
        let mut bytes = [0u8; RECORD_SIZE];
        for (slot, field) in bytes.chunks_exact_mut(4).zip(fields) {
            slot.copy_from_slice(&field.to_ne_bytes());
        }
        bytes
    }

    /// Decodes what [`Record::to_bytes`] wrote; `None` for garbage.
    pub fn from_bytes(bytes: &[u8; RECORD_SIZE]) -> Option<Record> {
        let mut fields = [0i32; 6];
        for (field, chunk) in fields.iter_mut().zip(bytes.chunks_exact(4)) {
            *field = i32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        let role = match fields[0] {
            0 => Role::Root,
            1 => Role::Child,
            2 => Role::Grandchild,
            _ => return None,
        };
        Some(Record {
            role,
            pid: fields[1],
            ppid: fields[2],
            ppid_at_birth: fields[3],
            host_pid: fields[4],
            timed_out: fields[5] != 0,
        })
    }
}

/// One line of the probe's table, with the names looked up in `/proc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub role: Role,
    pub pid: i32,
    pub ppid: i32,
    /// `/proc/PPID/comm`: who the parent is. `None` when this `/proc` has no
    /// such process (the parent of a namespace's PID 1 reads as 0).
    pub parent_comm: Option<String>,
    pub host_pid: Option<i32>,
    /// Only for the grandchild: its parent when it was born.
    pub ppid_at_birth: Option<i32>,
}

impl Row {
    /// The row for a record, naming the parent from this process's `/proc`.
    pub fn from_record(record: &Record) -> Row {
        Row {
            role: record.role,
            pid: record.pid,
            ppid: record.ppid,
            parent_comm: orphans::process::procfs::comm(record.ppid),
            host_pid: (record.host_pid > 0).then_some(record.host_pid),
            ppid_at_birth: (record.role == Role::Grandchild).then_some(record.ppid_at_birth),
        }
    }
}

/// The output formats of the probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table mdBook renders (the book uses this).
    Markdown,
    /// The table form of the org document the book started from.
    Org,
    /// A JSON array, one object per process, for tests and scripts.
    Json,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        match name {
            "markdown" | "md" => Ok(Format::Markdown),
            "org" => Ok(Format::Org),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "unknown format '{other}' (expected markdown, org or json)"
            )),
        }
    }
}

const HEADINGS: [&str; 6] = [
    "which",
    "PID",
    "parent",
    "parent's name",
    "host PID",
    "parent at birth",
];

/// Renders the rows in `format`; text formats end with a newline.
pub fn render(rows: &[Row], format: Format) -> String {
    match format {
        Format::Markdown => render_table(rows, "|---|---:|---:|---|---:|---:|"),
        Format::Org => render_table(
            rows,
            "|------------+-----+--------+---------------+----------+-----------------|",
        ),
        Format::Json => render_json(rows),
    }
}

fn render_table(rows: &[Row], separator: &str) -> String {
    let mut out = format!("| {} |\n{separator}\n", HEADINGS.join(" | "));
    for row in rows {
        let cells = [
            row.role.title().to_string(),
            row.pid.to_string(),
            row.ppid.to_string(),
            row.parent_comm.clone().unwrap_or_else(|| "-".into()),
            row.host_pid
                .map_or_else(|| "?".into(), |pid| pid.to_string()),
            optional(row.ppid_at_birth),
        ];
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

fn optional(value: Option<i32>) -> String {
    value.map_or_else(|| "-".into(), |v| v.to_string())
}

fn render_json(rows: &[Row]) -> String {
    let objects: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let mut object = serde_json::json!({
                "role": row.role.key(),
                "pid": row.pid,
                "ppid": row.ppid,
                "parent_comm": row.parent_comm,
                "host_pid": row.host_pid,
            });
            if let Some(birth) = row.ppid_at_birth {
                object["ppid_at_birth"] = birth.into();
            }
            object
        })
        .collect();
    let mut text = serde_json::Value::Array(objects).to_string();
    text.push('\n');
    text
}

/// One paragraph that reads the table: who adopted the grandchild, and
/// which rule of the kernel's reaper search (kernel/exit.c,
/// `find_new_reaper`) explains it. `None` unless all three rows are there.
pub fn reading(rows: &[Row]) -> Option<String> {
    let find = |role| rows.iter().find(|row| row.role == role);
    let (root, child, grandchild) = (
        find(Role::Root)?,
        find(Role::Child)?,
        find(Role::Grandchild)?,
    );
    let adopter = grandchild.ppid;
    let name = grandchild.parent_comm.as_deref().unwrap_or("unknown");
    let why = if adopter == 1 {
        "That is the init of the grandchild's PID namespace: no process between the two \
         had asked to be a child subreaper, so the orphan went to init"
            .to_string()
    } else if adopter == root.pid {
        "That is the probe's root, which must therefore be a child subreaper: the \
         kernel gives an orphan to its nearest subreaper ancestor first"
            .to_string()
    } else {
        format!(
            "That is not PID 1, and a process other than init adopts orphans only if it \
             has marked itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER): PID \
             {adopter} is the nearest subreaper above the probe"
        )
    };
    Some(format!(
        "The grandchild (PID {}) was born to the child (PID {}). When the child exited, \
         the kernel handed the grandchild to PID {adopter}, `{name}`. {why}.{}{}\n",
        grandchild.pid,
        child.pid,
        outside_view(root),
        unknown_host_pids(root)
    ))
}

/// For a run whose host PIDs are unknown: why (`?` in the table), and how
/// to see them.
fn unknown_host_pids(root: &Row) -> &'static str {
    if root.host_pid.is_some() {
        return "";
    }
    " The host PIDs read `?`: this `/proc` belongs to the probe's own PID namespace, which \
     numbers only its own processes. To see them, give the probe a procfs of the host: \
     `container --host-proc DIR probe --host-proc DIR`, or \
     `docker run -v /proc:/host/proc:ro IMAGE probe --host-proc /host/proc`."
}

/// For a root that is PID 1 of a namespace and knows its PID outside: the
/// sentence that sets the two numbers side by side.
fn outside_view(root: &Row) -> String {
    match root.host_pid {
        Some(outside) if root.pid == 1 && outside != 1 => format!(
            " Seen from the outer namespace the root has another number: PID 1 inside is \
             PID {outside} outside."
        ),
        _ => String::new(),
    }
}

/// The probe's family drawn twice, from the same rows as the table: at
/// birth (root, child, grandchild in a line, under the root's parent), and
/// after the child's exit, with the grandchild under its adopter. `None`
/// unless all three rows are there.
pub fn picture(rows: &[Row]) -> Option<Vec<Panel>> {
    let find = |role| rows.iter().find(|row| row.role == role);
    let (root, child, grandchild) = (
        find(Role::Root)?,
        find(Role::Child)?,
        find(Role::Grandchild)?,
    );
    // The three are one program: the child and grandchild are forks of the
    // root, and the child's row names its parent, the root.
    let probe = child.parent_comm.as_deref().unwrap_or("probe");
    let adopter = grandchild.ppid;
    let family = |title: &str, after: bool| {
        let mut panel = Panel::titled(title);
        let state = |pid: i32| match pid {
            _ if after && pid == adopter => State::Adopter,
            _ if after && pid == child.pid => State::Exited,
            _ => State::Running,
        };
        let process = |pid, name, role| Node::new(pid, name, role, state(pid));
        if !([root.ppid, root.pid, child.pid].contains(&adopter)) {
            // An ancestor further up: dots stand for the processes between.
            let top = if root.ppid > 0 { root.ppid } else { root.pid };
            let name = grandchild.parent_comm.as_deref().unwrap_or("?");
            panel.add(process(adopter, name, ""));
            panel.join(Edge::new(adopter, top, Link::Ancestry));
        }
        // Who started the root, unless the root is the init of a namespace,
        // whose parent (0) is outside it.
        if root.ppid > 0 {
            let name = root.parent_comm.as_deref().unwrap_or("?");
            panel.add(process(root.ppid, name, ""));
            panel.join(Edge::new(root.ppid, root.pid, Link::Parent));
        }
        panel.add(process(root.pid, probe, "root"));
        panel.add(process(child.pid, probe, "child"));
        panel.join(Edge::new(root.pid, child.pid, Link::Parent));
        panel.add(process(grandchild.pid, probe, "grandchild"));
        panel.join(if after {
            Edge::new(adopter, grandchild.pid, Link::Adopted).labelled("adopted")
        } else {
            Edge::new(child.pid, grandchild.pid, Link::Parent)
        });
        panel
    };
    let before = family("at birth", false);
    let after = family(&format!("after the child (PID {}) exited", child.pid), true);
    Some(vec![before, after])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_pipe() {
        let record = Record {
            role: Role::Grandchild,
            pid: 42,
            ppid: 1,
            ppid_at_birth: 41,
            host_pid: 9042,
            timed_out: true,
        };
        assert_eq!(Record::from_bytes(&record.to_bytes()), Some(record));
        assert_eq!(Record::from_bytes(&[0xff; RECORD_SIZE]), None);
    }

    fn rows(root: (i32, i32), child: i32, adopter: (i32, &str)) -> Vec<Row> {
        let row = |role, pid, ppid, comm: &str| Row {
            role,
            pid,
            ppid,
            parent_comm: Some(comm.to_string()),
            host_pid: None,
            ppid_at_birth: (role == Role::Grandchild).then_some(child),
        };
        vec![
            row(Role::Root, root.0, root.1, "sh"),
            row(Role::Child, child, root.0, "probe"),
            row(Role::Grandchild, child + 1, adopter.0, adopter.1),
        ]
    }

    /// The PIDs a panel shows, and its arrows as (from, to, link).
    fn shape(panel: &Panel) -> (Vec<i32>, Vec<(i32, i32, Link)>) {
        let mut pids: Vec<i32> = panel.nodes.iter().map(|n| n.pid).collect();
        pids.sort();
        let edges = panel.edges.iter().map(|e| (e.from, e.to, e.link)).collect();
        (pids, edges)
    }

    #[test]
    fn init_of_a_namespace_adopts_under_its_own_box() {
        // Root as PID 1 of a container: its parent 0 is not drawn.
        let panels = picture(&rows((1, 0), 7, (1, "probe"))).unwrap();
        let (pids, edges) = shape(&panels[1]);
        assert_eq!(pids, [1, 7, 8]);
        assert!(edges.contains(&(1, 8, Link::Adopted)), "{edges:?}");
        assert!(!edges.iter().any(|e| e.2 == Link::Ancestry));
        let (_, before) = shape(&panels[0]);
        assert!(before.contains(&(7, 8, Link::Parent)), "{before:?}");
        assert!(panels[1]
            .nodes
            .iter()
            .any(|n| n.pid == 7 && n.state == State::Exited));
    }

    #[test]
    fn an_adopter_higher_up_is_joined_by_dots() {
        let panels = picture(&rows((500, 400), 501, (1, "systemd"))).unwrap();
        let (pids, edges) = shape(&panels[1]);
        assert_eq!(pids, [1, 400, 500, 501, 502]);
        assert!(edges.contains(&(1, 400, Link::Ancestry)), "{edges:?}");
        assert!(edges.contains(&(1, 502, Link::Adopted)), "{edges:?}");
        let adopter = panels[1].nodes.iter().find(|n| n.pid == 1).unwrap();
        assert_eq!(
            (adopter.name.as_str(), adopter.state),
            ("systemd", State::Adopter)
        );
        assert!(picture(&rows((500, 400), 501, (1, "systemd"))[..2]).is_none());
    }

    #[test]
    fn an_unknown_host_pid_is_a_question_mark_and_null() {
        let mut rows = rows((1, 0), 7, (1, "probe"));
        rows[0].host_pid = Some(4242);
        let table = render(&rows, Format::Markdown);
        assert!(
            table.contains("| Root | 1 | 0 | sh | 4242 | - |"),
            "{table}"
        );
        assert!(
            table.contains("| Child | 7 | 1 | probe | ? | - |"),
            "{table}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&rows, Format::Json)).expect("JSON");
        assert_eq!(json[1]["host_pid"], serde_json::Value::Null);
        assert!(!reading(&rows).expect("a reading").contains("--host-proc"));
        rows[0].host_pid = None;
        assert!(reading(&rows)
            .expect("a reading")
            .contains("--host-proc DIR"));
    }

    #[test]
    fn the_nspid_line_counts_the_namespaces() {
        assert_eq!(nspid_count("Name:\tx\nNSpid:\t4822\t7\t1\n"), Some(3));
        assert_eq!(nspid_count("Name:\tx\nNSpid:\t1\n"), Some(1));
        assert_eq!(nspid_count("Name:\tx\n"), None);
    }

    #[test]
    fn formats_parse_and_reject() {
        assert_eq!("org".parse::<Format>(), Ok(Format::Org));
        assert!("yaml".parse::<Format>().is_err());
    }
}
