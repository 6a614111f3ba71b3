//! Where the cgroup trees are mounted: the one reader of
//! `/proc/self/mountinfo` (proc(5)) for chapter 12's benchmark and chapter
//! 16's tables, on cgroup v1 (one tree per controller) and v2 (one tree).

use std::path::PathBuf;

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
