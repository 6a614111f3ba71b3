//! Where this checkout's files are: the package's root, and cargo's target
//! directory, which `CARGO_TARGET_DIR` (or `build.target-dir` in a cargo
//! config file) may put anywhere. Nothing of the book assumes `target/` is
//! inside the checkout; everything asks here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The root of the `orphans` package (the repository's root), as cargo
/// named it when it compiled this library.
pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// cargo's target directory for this workspace.
///
/// Found from the running program when cargo built it (cargo marks the top
/// of every target directory with a `CACHEDIR.TAG` file), else asked of
/// `cargo metadata` (a chapter's block compiled by skeptic runs from a
/// temporary directory), else `target/` in the project, cargo's default.
pub fn target_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        target_of_running_program()
            .or_else(target_from_cargo_metadata)
            .unwrap_or_else(|| project_dir().join("target"))
    })
    .clone()
}

/// Where the book keeps what it remembers between runs (experiments'
/// outputs, the Docker check): inside the target directory, so that
/// `cargo clean` forgets it too.
pub fn cache_dir() -> PathBuf {
    target_dir().join("orphans-cache")
}

/// The target directory above the running program, if there is one: the
/// program is `TARGET/debug/NAME`, `TARGET/debug/deps/NAME-HASH` (a test)
/// or `TARGET/TRIPLE/PROFILE/NAME`.
fn target_of_running_program() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

/// `target_directory` from `cargo metadata`, run in the project.
fn target_from_cargo_metadata() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(project_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    metadata["target_directory"].as_str().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_directory_holds_this_test() {
        let target = target_dir();
        assert!(target.join("CACHEDIR.TAG").is_file(), "{}", target.display());
        let exe = std::env::current_exe().expect("current exe");
        assert!(exe.starts_with(&target), "{}", exe.display());
    }

    #[test]
    fn cargo_metadata_agrees() {
        let from_cargo = target_from_cargo_metadata().expect("cargo metadata answers");
        assert_eq!(
            from_cargo.canonicalize().ok(),
            target_dir().canonicalize().ok()
        );
    }
}
