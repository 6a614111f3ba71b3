//! What `cargo xtask dist` needs besides cargo: rustup's targets, a cross
//! linker, and the Debian packages' programs that make the packages and
//! the image. All that is missing is reported at once, before any build.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::dist::{Options, TARGETS};

/// The programs that make the packages, and the Debian packages that
/// bring them.
const PACKAGE_TOOLS: [(&str, &str); 4] = [
    ("dpkg-deb", "dpkg"),
    ("rpmbuild", "rpm"),
    ("gzip", "gzip"),
    ("md5sum", "coreutils"),
];
/// The programs that build the image index and copy it into Docker.
const IMAGE_TOOLS: [(&str, &str); 2] = [("buildah", "buildah"), ("skopeo", "skopeo")];

/// Everything the build needs that cargo does not install: all that is
/// missing, in one error, each with the command that installs it. (A
/// Docker engine is not needed: without one, `foster:VERSION` is not
/// loaded into it, and the build says so.)
pub fn check(options: &Options) -> Result<(), String> {
    let mut missing = Vec::new();
    let installed = installed_targets();
    for target in &TARGETS {
        if installed
            .as_ref()
            .is_some_and(|list| !list.iter().any(|t| t == target.triple))
        {
            missing.push(format!(
                "rustup's target {0}: rustup target add {0}",
                target.triple
            ));
        }
        if target.needs_cross_linker() && !on_path(target.cross_linker) {
            missing.push(format!(
                "{} to link the {} build: apt-get install {} (or set {})",
                target.cross_linker,
                target.arch,
                target.linker_package,
                target.linker_variable()
            ));
        }
    }
    let mut programs = PACKAGE_TOOLS.to_vec();
    if options.image {
        programs.extend(IMAGE_TOOLS);
    }
    for (program, package) in programs {
        if !on_path(program) {
            missing.push(format!("{program}: apt-get install {package}"));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("missing:\n  {}", missing.join("\n  ")))
    }
}

/// rustup's installed targets; `None` without rustup (then cargo says
/// what is missing).
fn installed_targets() -> Option<Vec<String>> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().map(|line| line.trim().to_string()).collect())
}

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| {
        fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

pub fn docker_engine() -> Result<(), String> {
    let output = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map_err(|e| format!("no docker command ({e}): apt-get install docker.io"))?;
    if output.status.success() {
        return Ok(());
    }
    let why = String::from_utf8_lossy(&output.stderr);
    let why = why
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("no answer");
    Err(format!("no Docker engine answers ({})", why.trim()))
}
