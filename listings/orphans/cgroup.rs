//! Control groups (cgroups(7)): where their trees are mounted (the one
//! reader of `/proc/self/mountinfo`, proc(5), for chapter 12's benchmark
//! and chapter 16's tables), on cgroup v1 (one tree per controller) and v2
//! (one tree); and a group made for a run, which a command's processes
//! join.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::write;
use orphans::missing::Missing;
use orphans::process::spawn::dying_with_us;

/// One line of mountinfo, as far as the book reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted (field 5).
    pub point: PathBuf,
    /// The file system type (`cgroup`, `cgroup2`), first after the lone
    /// `-` that ends the optional fields.
    pub fstype: String,
    /// The super block's options (`rw,pids`), the third after the `-`.
    pub options: String,
}

impl Mount {
    /// A cgroup v2 tree.
    pub fn is_cgroup2(&self) -> bool {
        self.fstype == "cgroup2"
    }

    /// A cgroup v1 tree that holds `controller` (`pids`, `cpu`).
    pub fn is_cgroup1_with(&self, controller: &str) -> bool {
        self.fstype == "cgroup" && self.options.split(',').any(|o| o == controller)
    }
}

/// The mounts this process sees; empty when mountinfo cannot be read.
pub fn mounts() -> Vec<Mount> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    parse_mountinfo(&text)
}

/// The mounts of a mountinfo text, skipping lines it cannot read.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Mount> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let dash = fields.iter().position(|&f| f == "-")?;
    Some(Mount {
        point: PathBuf::from(fields.get(4).filter(|_| dash > 4)?),
        fstype: fields.get(dash + 1)?.to_string(),
        options: fields.get(dash + 3).unwrap_or(&"").to_string(),
    })
}

// ANCHOR: group
/// A cgroup made for one table, removed (rmdir) when dropped. It must be
/// empty by then: the tables end every process they start in it.
pub struct Group {
    pub dir: PathBuf,
}

impl Group {
    /// Makes `orphans-WHAT-PID` below `hierarchy`, a mounted cgroup tree.
    pub fn new(hierarchy: &Path, what: &str) -> Result<Group, String> {
        let dir = hierarchy.join(format!("orphans-{what}-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(Group { dir })
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file))
            .map(|text| text.trim().to_string())
            .unwrap_or_else(|_| "-".to_string())
    }

    pub fn set(&self, file: &str, value: &str) -> Result<(), String> {
        std::fs::write(self.dir.join(file), value)
            .map_err(|e| format!("writing {value} to {file}: {e}"))
    }

    /// The processes in the group (`cgroup.procs`).
    pub fn processes(&self) -> Vec<i32> {
        self.read("cgroup.procs")
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .collect()
    }

    /// Makes the child that `command` starts join this group before it
    /// executes its program, so that everything it forks is counted.
    pub fn enter<'a>(&self, command: &'a mut Command) -> Result<&'a mut Command, String> {
        let procs = CString::new(self.dir.join("cgroup.procs").as_os_str().as_bytes())
            .map_err(|_| "a cgroup path with a NUL byte")?;
        // SAFETY: the closure runs between fork and exec, where only
        // async-signal-safe calls are allowed: open(2), write(2) and
        // close(2) (when the descriptor is dropped), and no allocation.
        // Writing "0" moves the writing process (cgroup_procs_write_start
        // in kernel/cgroup/cgroup.c takes PID 0 for the caller).
        unsafe {
            command.pre_exec(move || {
                let fd = open(
                    procs.as_c_str(),
                    OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )?;
                write(&fd, b"0")?;
                Ok(())
            })
        };
        Ok(dying_with_us(command))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // A group can be removed only once its last process is gone, and a
        // process that was just killed may still be leaving.
        for _ in 0..100 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "orphans: could not remove the cgroup {}",
            self.dir.display()
        );
    }
}
// ANCHOR_END: group

/// A mounted cgroup hierarchy: where, and which version.
pub struct Hierarchy {
    pub dir: PathBuf,
    pub version: u8,
}

/// The mounted hierarchy that has the pids controller: a cgroup2 tree that
/// lists `pids` in `cgroup.subtree_control`, or cgroup v1's pids tree
/// (/proc/self/mountinfo, proc(5)).
pub fn pids_hierarchy() -> Result<Hierarchy, Missing> {
    for mount in mounts() {
        let v2_with_pids = mount.is_cgroup2()
            && std::fs::read_to_string(mount.point.join("cgroup.subtree_control"))
                .is_ok_and(|enabled| enabled.split_whitespace().any(|c| c == "pids"));
        if v2_with_pids {
            return Ok(Hierarchy {
                dir: mount.point,
                version: 2,
            });
        }
        if mount.is_cgroup1_with("pids") {
            return Ok(Hierarchy {
                dir: mount.point,
                version: 1,
            });
        }
    }
    Err(Missing::new(
        "the cgroup pids controller",
        "no mounted cgroup hierarchy offers it to new groups",
        "run on a Linux machine with cgroups mounted, as root",
    ))
}

/// Whether this process may make a group below `hierarchy` (a user
/// without root usually may not, unless a part of the tree was delegated
/// to it): makes one and removes it at once.
pub fn may_make_groups(hierarchy: &Path) -> Result<(), Missing> {
    let made = Group::new(hierarchy, "check");
    match made {
        Ok(group) => {
            drop(group);
            Ok(())
        }
        Err(why) => Err(Missing::new(
            "a cgroup of its own",
            why,
            "run as root (or where systemd delegates a part of the tree to you)",
        )),
    }
}

/// A cgroup v2 hierarchy: the one mounted, or, on a machine that mounts only
/// v1, one we mount in a mount namespace of our own. (The v2 tree always
/// exists in the kernel; mounting it shows it. Our namespace keeps the mount
/// away from the rest of the machine, and takes it along when we exit.)
pub fn v2_hierarchy() -> Result<V2, Missing> {
    if let Some(mount) = mounts().into_iter().find(|m| m.is_cgroup2()) {
        return Ok(V2 {
            dir: mount.point,
            ours: false,
        });
    }
    mount_v2_privately().map_err(|why| {
        Missing::new(
            "cgroup v2",
            why,
            "run as root on Linux 5.14 or later with cgroup2 support",
        )
    })
}

/// A cgroup v2 tree, and whether we mounted it (then it is unmounted and
/// its directory removed when dropped).
pub struct V2 {
    pub dir: PathBuf,
    pub ours: bool,
}

impl Drop for V2 {
    fn drop(&mut self) {
        if self.ours {
            let _ = nix::mount::umount2(&self.dir, nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

fn mount_v2_privately() -> Result<V2, String> {
    use nix::mount::{mount, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    // Without this, a mount would propagate back to the machine's namespace.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making mounts private: {e}"))?;
    let dir = std::env::temp_dir().join(format!("orphans-cgroup2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mounted = mount(
        Some("cgroup2"),
        &dir,
        Some("cgroup2"),
        MsFlags::empty(),
        None::<&str>,
    );
    if let Err(e) = mounted {
        let _ = std::fs::remove_dir(&dir);
        return Err(format!("mounting cgroup2: {e}"));
    }
    Ok(V2 { dir, ours: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines_give_point_type_and_options() {
        let text = "\
30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu
31 25 0:27 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
no dash here";
        let mounts = parse_mountinfo(text);
        assert_eq!(mounts.len(), 3);
        assert_eq!(mounts[0].point, PathBuf::from("/sys/fs/cgroup/cpu"));
        assert!(mounts[0].is_cgroup1_with("cpu") && !mounts[0].is_cgroup1_with("cpuacct"));
        assert!(mounts[1].is_cgroup1_with("pids"));
        assert!(mounts[2].is_cgroup2() && !mounts[2].is_cgroup1_with("cpu"));
        assert_eq!(mounts[2].options, "rw");
    }

    #[test]
    fn this_machine_has_a_root() {
        assert!(mounts()
            .iter()
            .any(|m| m.point == std::path::Path::new("/")));
    }
}
