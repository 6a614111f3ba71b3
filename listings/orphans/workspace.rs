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
/// Found from the running program when cargo built it (see
/// [`is_target_dir`]), else asked of
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
/// outputs, the Docker check; see `orphans::cache`): inside the target
/// directory, so that `cargo clean` forgets it too.
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
        .find(|dir| is_target_dir(dir))
        .map(Path::to_path_buf)
}

/// Whether cargo uses `dir` as a target directory: it keeps there the
/// answers of `rustc -vV` (`.rustc_info.json`), and marks a directory it
/// made itself with `CACHEDIR.TAG`.
fn is_target_dir(dir: &Path) -> bool {
    dir.join(".rustc_info.json").is_file() || dir.join("CACHEDIR.TAG").is_file()
}

/// `target_directory` from `cargo metadata`, run in the project.
fn target_from_cargo_metadata() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(project_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    metadata["target_directory"].as_str().map(PathBuf::from)
}

/// Writes `text` to `path` through a temporary file and a rename, so that
/// a reader at the same time sees the old file or the new one, never half.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_directory_holds_this_test() {
        let target = target_dir();
        assert!(is_target_dir(&target), "{}", target.display());
        let exe = std::env::current_exe().expect("current exe");
        assert!(exe.starts_with(&target), "{}", exe.display());
    }

    #[test]
    fn a_file_is_replaced_whole() {
        let path = std::env::temp_dir().join(format!("orphans-atomic-{}", std::process::id()));
        write_atomically(&path, "one").expect("write");
        write_atomically(&path, "three").expect("write again");
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("three")
        );
        let _ = std::fs::remove_file(&path);
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
