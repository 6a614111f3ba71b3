//! The Rust toolchain, for static builds: whether it has the musl target,
//! and the cargo commands that build the book's programs and foster
//! statically (for the project's image, and chapter 12's measures).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use orphans::missing::Missing;

/// The `cargo` that runs us (`$CARGO`), else the one on `$PATH`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The toolchain's musl target, with which cargo links fully static
/// binaries (foster's small static build, chapter 12; the project's image
/// prefers it). Asks the toolchain itself (`rustc --print sysroot`), so it
/// also works without rustup. `Ok` holds the target's name.
pub fn musl_target() -> Result<String, Missing> {
    let triple = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let installed =
        sysroot.is_some_and(|root| root.join("lib/rustlib").join(&triple).join("lib").is_dir());
    if installed {
        Ok(triple)
    } else {
        Err(Missing::new(
            "the musl target",
            format!("this Rust toolchain has no {triple}"),
            &format!("rustup target add {triple}"),
        ))
    }
}

/// A Rust target that links statically, and the flags it needs for that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticTarget {
    pub triple: String,
    pub rustflags: Option<&'static str>,
}

/// musl links statically by default; when the toolchain does not have the
/// musl target, glibc can link statically too with `+crt-static`.
pub fn static_target() -> StaticTarget {
    match musl_target() {
        Ok(musl) => StaticTarget {
            triple: musl,
            rustflags: None,
        },
        Err(_) => StaticTarget {
            triple: format!("{}-unknown-linux-gnu", std::env::consts::ARCH),
            rustflags: Some("-C target-feature=+crt-static"),
        },
    }
}

/// The cargo command that builds every binary of the package statically
/// into `target_dir` (documented in the README as the image's recipe).
/// Its stdout is cargo's JSON messages: [`executable_in`] reads them.
pub fn cargo_build_command(target: &StaticTarget, target_dir: &Path) -> Command {
    let mut command = Command::new(cargo());
    command.args(["build", "--release", "--bins", "--target", &target.triple]);
    command.arg("--target-dir").arg(target_dir);
    command.arg("--message-format=json-render-diagnostics");
    if let Some(flags) = target.rustflags {
        // With --target, RUSTFLAGS reach only the target's code, not build
        // scripts, which must still run on the (dynamic) host.
        let old = std::env::var("RUSTFLAGS").unwrap_or_default();
        command.env("RUSTFLAGS", format!("{old} {flags}").trim());
    }
    command
}

/// The executable a `compiler-artifact` message of cargo names, if any.
pub fn executable_in(message: &str) -> Option<PathBuf> {
    let value: serde_json::Value = serde_json::from_str(message).ok()?;
    if value["reason"] != "compiler-artifact" {
        return None;
    }
    value["executable"].as_str().map(PathBuf::from)
}

/// Builds foster as images use it: static (musl), size-optimised (the
/// `foster` profile), into cargo's usual target directory. Returns the
/// binary's path; cargo's progress goes to our stderr. `Err` says why not
/// (no musl target, or the build failed).
pub fn build_static_foster() -> Result<PathBuf, String> {
    let triple = musl_target().map_err(|missing| missing.to_string())?;
    let output = Command::new(cargo())
        .args(["build", "-p", "foster", "--profile", "foster", "--target"])
        .arg(&triple)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(orphans::workspace::project_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo build -p foster for {triple} failed"));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(executable_in)
        .find(|path| path.file_name().is_some_and(|name| name == "foster"))
        .ok_or_else(|| "cargo built no foster binary".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_messages_name_executables() {
        let built = r#"{"reason":"compiler-artifact","executable":"/t/debug/probe"}"#;
        assert_eq!(executable_in(built), Some(PathBuf::from("/t/debug/probe")));
        let library = r#"{"reason":"compiler-artifact","executable":null}"#;
        assert_eq!(executable_in(library), None);
        assert_eq!(executable_in(r#"{"reason":"build-finished"}"#), None);
        assert_eq!(executable_in("not json"), None);
    }
}
