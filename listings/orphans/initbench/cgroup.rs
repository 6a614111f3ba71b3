//! The benchmark in a CPU cgroup of its own, the way a container runtime
//! places a container.
//!
//! With autogroup on (`kernel.sched_autogroup_enabled`), the scheduler
//! groups the processes of the root CPU cgroup by session: setsid(2) gives
//! a process a scheduling group of its own, which then competes with the
//! others as one (sched(7), "The autogroup feature"). An init that starts
//! its child in a new session, as dumb-init does, then gets its wake-ups
//! handled differently from one that does not, and measures faster at
//! forwarding, for a reason that has nothing to do with how it waits or
//! signals. In a container it does not happen: the runtime gives each
//! container a cgroup, and "the use of the cgroups(7) CPU controller to
//! place processes in cgroups other than the root CPU cgroup overrides the
//! effect of autogrouping" (sched(7); task_wants_autogroup,
//! kernel/sched/autogroup.h). So does this module, for the whole run.

use std::fs;
use std::path::{Path, PathBuf};

use orphans::cgroup::Mount;

/// Where the run was placed, for the notes under the table.
pub enum Placement {
    /// Moved into a CPU cgroup made for the run; moved back and removed
    /// when this is dropped.
    Moved(CpuGroup),
    /// Left where it was, and why that is fine or what it means.
    Stayed(String),
}

impl Placement {
    /// One sentence for the notes under the table.
    pub fn note(&self) -> String {
        match self {
            Placement::Moved(_) => "The run had a CPU cgroup of its own, as a container has, so \
                 that autogroup played no part."
                .into(),
            Placement::Stayed(why) => why.clone(),
        }
    }
}

/// A CPU cgroup this process moved into; `Drop` moves it back to
/// `home` and removes the group.
pub struct CpuGroup {
    dir: PathBuf,
    home: PathBuf,
}

impl Drop for CpuGroup {
    fn drop(&mut self) {
        // A cgroup can only be removed once no process is left in it.
        let back = move_into(&self.home);
        if back.is_err() || fs::remove_dir(&self.dir).is_err() {
            eprintln!(
                "initbench: could not remove the CPU cgroup {} (a process is still in it?)",
                self.dir.display()
            );
        }
    }
}

/// Moves this process (and so everything it starts from now on) into a
/// CPU cgroup of its own when autogroup would otherwise apply to it: the
/// process is in the root CPU cgroup and autogroup is on.
pub fn own_cpu_cgroup() -> Placement {
    if !autogroup_enabled() {
        return Placement::Stayed(String::new());
    }
    let Some(hierarchy) = cpu_hierarchy() else {
        return Placement::Stayed(
            "Autogroup was on and no CPU cgroup could be found: an init that starts its \
             child in a session of its own (dumb-init) forwards faster here than it would \
             in a container."
                .into(),
        );
    };
    if !hierarchy.in_root_task_group() {
        return Placement::Stayed(String::new());
    }
    match hierarchy.make_group() {
        Ok(group) => Placement::Moved(group),
        Err(why) => Placement::Stayed(format!(
            "Autogroup was on and the run stayed in the root CPU cgroup ({why}): an init \
             that starts its child in a session of its own (dumb-init) forwards faster here \
             than it would in a container."
        )),
    }
}

/// Moves this process into the root CPU cgroup, where autogroup applies
/// when it is on (as root, a process may move itself there; a runtime's
/// or a service manager's cgroup is left for the time being). `None` if it
/// cannot. Dropping the guard moves it back.
pub fn root_cpu_cgroup() -> Option<RootGuard> {
    let hierarchy = cpu_hierarchy()?;
    if hierarchy.own == "/" {
        return Some(RootGuard { home: None });
    }
    move_into(&hierarchy.mount).ok()?;
    Some(RootGuard {
        home: Some(hierarchy.dir_of(&hierarchy.own)),
    })
}

/// This process in the root CPU cgroup until dropped ([`root_cpu_cgroup`]).
pub struct RootGuard {
    home: Option<PathBuf>,
}

impl Drop for RootGuard {
    fn drop(&mut self) {
        if let Some(home) = &self.home {
            let _ = move_into(home);
        }
    }
}

/// Whether autogroup is on (`/proc/sys/kernel/sched_autogroup_enabled`).
pub fn autogroup_enabled() -> bool {
    fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled")
        .is_ok_and(|value| value.trim() == "1")
}

/// The mounted hierarchy that holds the CPU controller, and this
/// process's cgroup in it.
struct Hierarchy {
    mount: PathBuf,
    /// This process's cgroup, relative to the hierarchy's root ("/": the
    /// root itself).
    own: String,
    /// cgroup v2 (one hierarchy for every controller) or v1.
    unified: bool,
}

impl Hierarchy {
    /// Whether this process is scheduled in the root task group, the one
    /// autogroup splits: in v1 when it is in the root of the cpu
    /// hierarchy; in v2 also when no cgroup above it enables the CPU
    /// controller (then its cgroup has no "cpu" in `cgroup.controllers`).
    fn in_root_task_group(&self) -> bool {
        if self.own == "/" {
            return true;
        }
        self.unified && !has_word(&self.dir_of(&self.own).join("cgroup.controllers"), "cpu")
    }

    fn dir_of(&self, cgroup: &str) -> PathBuf {
        self.mount.join(cgroup.trim_start_matches('/'))
    }

    /// Makes `initbench-PID` at the root of the hierarchy and moves this
    /// process into it. In v2 the root must already hand the CPU
    /// controller to its children: the benchmark does not change that
    /// for the whole machine.
    fn make_group(&self) -> Result<CpuGroup, String> {
        if self.unified && !has_word(&self.mount.join("cgroup.subtree_control"), "cpu") {
            return Err("the root cgroup does not enable the cpu controller".into());
        }
        let dir = self.mount.join(format!("initbench-{}", std::process::id()));
        fs::create_dir(&dir).map_err(|e| format!("cannot make a cgroup: {e}"))?;
        let group = CpuGroup {
            dir,
            home: self.dir_of(&self.own),
        };
        // On failure `group` is dropped: the empty directory is removed.
        move_into(&group.dir).map_err(|e| format!("cannot move into a cgroup: {e}"))?;
        Ok(group)
    }
}

/// Writes this process's PID into `dir/cgroup.procs`.
fn move_into(dir: &Path) -> std::io::Result<()> {
    fs::write(dir.join("cgroup.procs"), std::process::id().to_string())
}

/// Whether the whitespace-separated words of file `path` include `word`.
fn has_word(path: &Path, word: &str) -> bool {
    fs::read_to_string(path).is_ok_and(|text| text.split_whitespace().any(|w| w == word))
}

/// Finds the CPU controller: a v1 hierarchy whose line in
/// `/proc/self/cgroup` lists `cpu` among its controllers, else the v2
/// hierarchy (line `0::PATH`); and where it is mounted (mountinfo).
fn cpu_hierarchy() -> Option<Hierarchy> {
    let cgroups = fs::read_to_string("/proc/self/cgroup").ok()?;
    let mounts = orphans::cgroup::mounts();
    let v1 = cgroups.lines().find_map(|line| {
        let (_, controllers, path) = cgroup_line(line)?;
        controllers.split(',').any(|c| c == "cpu").then_some(path)
    });
    if let Some(own) = v1 {
        let mount = mount_point(&mounts, |m| m.is_cgroup1_with("cpu"))?;
        return Some(Hierarchy {
            mount,
            own: own.to_string(),
            unified: false,
        });
    }
    let own = cgroups.lines().find_map(|line| {
        let (id, controllers, path) = cgroup_line(line)?;
        (id == "0" && controllers.is_empty()).then_some(path)
    })?;
    let mount = mount_point(&mounts, Mount::is_cgroup2)?;
    Some(Hierarchy {
        mount,
        own: own.to_string(),
        unified: true,
    })
}

/// A line of `/proc/PID/cgroup`: `ID:CONTROLLERS:PATH` (cgroups(7)).
fn cgroup_line(line: &str) -> Option<(&str, &str, &str)> {
    let mut fields = line.splitn(3, ':');
    Some((fields.next()?, fields.next()?, fields.next()?))
}

/// The mount point of the first of `mounts` that is `wanted`.
fn mount_point(mounts: &[Mount], wanted: impl Fn(&Mount) -> bool) -> Option<PathBuf> {
    mounts.iter().find(|m| wanted(m)).map(|m| m.point.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_proc_cgroup_split_in_three() {
        assert_eq!(
            cgroup_line("3:cpu,cpuacct:/a/b"),
            Some(("3", "cpu,cpuacct", "/a/b"))
        );
        assert_eq!(
            cgroup_line("0::/user.slice"),
            Some(("0", "", "/user.slice"))
        );
        assert_eq!(cgroup_line("junk"), None);
    }
}
