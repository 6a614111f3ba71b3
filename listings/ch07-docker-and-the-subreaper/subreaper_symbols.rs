//! Which of the installed container binaries can set the subreaper flag?
//! Go keeps the full name of every function it links in the binary (the
//! table behind its stack traces, which stripping leaves in place), so a
//! function that is never called is not linked and its name is absent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use orphans::process::spawn::find_in;

/// The engine's programs, from the top (the daemon) to the bottom (the
/// runtime that creates the container's processes).
const PROGRAMS: [&str; 4] = ["dockerd", "containerd", "containerd-shim-runc-v2", "runc"];

/// An extended regular expression for the Go functions that call
/// prctl(PR_SET_CHILD_SUBREAPER): `SetSubreaper` in containerd's and runc's
/// helpers, and the shim's own `subreaper` wrapper around it, each with its
/// package path (which tells them from the `--no-subreaper` option text).
const SETTERS: &str = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]*(\.SetSubreaper|shim\.subreaper)\b";

fn main() {
    let found: Vec<(&str, PathBuf)> = PROGRAMS
        .iter()
        .filter_map(|name| Some((*name, installed(name)?)))
        .collect();
    if found.is_empty() {
        println!(
            "None of {} is installed where this book was built.",
            PROGRAMS.join(", ")
        );
        return;
    }
    let headings = ["program", "installed at", "functions that set the flag"];
    println!("{}", orphans::table::header(&headings));
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for (name, path) in found {
        let functions = setters(&path).unwrap_or_else(|e| format!("unknown: {e}"));
        println!("| `{name}` | `{}` | {functions} |", path.display());
        match functions.as_str() {
            "none" => without.push(format!("`{name}`")),
            f if !f.starts_with("unknown") => with.push(format!("`{name}`")),
            _ => {}
        }
    }
    println!("\n{}", verdict(&with, &without));
}

/// One sentence: which programs carry a setter and which do not.
fn verdict(with: &[String], without: &[String]) -> String {
    let list = |names: &[String]| match names {
        [] => "none".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    let carry = |names: &[String], what: &str| match names.len() {
        0 => None,
        1 => Some(format!("{} carries {what}", list(names))),
        _ => Some(format!("{} carry {what}", list(names))),
    };
    let parts: Vec<String> = [
        carry(with, "a function that sets the flag"),
        carry(without, "none"),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("On this machine, {}.", parts.join("; "))
}

/// The first `name` found in the directories of `$PATH` or the usual
/// system directories.
fn installed(name: &str) -> Option<PathBuf> {
    let system = ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"];
    let mut dirs =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect::<Vec<_>>();
    dirs.extend(system.map(PathBuf::from));
    find_in(name, &std::env::join_paths(dirs).unwrap_or_default())
}

/// The setter names found in the binary at `path`, listed for the table
/// as `package.Function` (see [`short_name`]). grep(1) does the scan: it is
/// fast on binaries of tens of megabytes.
fn setters(path: &Path) -> Result<String, String> {
    let output = Command::new("grep")
        .args(["-aoE", SETTERS])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run grep: {e}"))?;
    // grep exits 1 when nothing matches: that is an answer, not a failure.
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let names: BTreeSet<&str> = text.lines().map(short_name).collect();
    if names.is_empty() {
        return Ok("none".into());
    }
    Ok(names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", "))
}

/// `name` without its package path: the last path element, the package's
/// own name, and the function (`github.com/opencontainers/runc/libcontainer/
/// system.SetSubreaper` becomes `system.SetSubreaper`). The full paths cannot
/// wrap, and would make the table wider than a page.
fn short_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_name_keeps_the_package_and_the_function() {
        let shim = "github.com/containerd/containerd/v2/pkg/shim.subreaper";
        assert_eq!(short_name(shim), "shim.subreaper");
        assert_eq!(short_name("reaper.SetSubreaper"), "reaper.SetSubreaper");
    }
}
