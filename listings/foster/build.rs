//! Gives foster's `--version` the commit it was built from, in the form
//! Docker parses (`foster version 0.1.0 - git.1a2b3c4`): the short hash of
//! `git rev-parse`, or `unknown` when there is no git or no checkout (a
//! source tarball), which Docker parses just as well.
//!
//! Cargo runs a build script again when a file it was told to watch
//! changes, and also, every time, when that file does not exist. So this
//! one watches only files that exist: those through which git resolves
//! HEAD (gitrepository-layout(5)).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=FOSTER_COMMIT={commit}");
    // Without this line cargo would run the script again whenever any
    // file of the package changes, which outside git is all it can do.
    println!("cargo:rerun-if-changed=build.rs");
    for path in what_head_resolves_through() {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// The places where a commit, a checkout or a rebase changes what HEAD
/// names (some may not exist; [`main`] keeps those that do). `HEAD` itself
/// (in a worktree, the worktree's own, which git finds through the `.git`
/// file: `--git-path` follows it), and, when HEAD names a branch, where
/// the branch can be: its loose file; if there is none yet, the folder
/// where a commit will write it (cargo watches a folder's files); the
/// packed refs; and the reftable folder of repositories that use that
/// format instead of files.
fn what_head_resolves_through() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = Vec::new();
    paths.extend(git_path("HEAD"));
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(loose) = git_path(&branch) {
            if !loose.exists() {
                paths.extend(loose.parent().map(Path::to_path_buf));
            }
            paths.push(loose);
        }
        paths.extend(git_path("packed-refs"));
        paths.extend(git_path("reftable"));
    }
    paths
}

/// `git rev-parse --git-path NAME`, made absolute: git answers relative
/// to the current folder in a plain checkout, absolute in a worktree.
fn git_path(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(git(&["rev-parse", "--git-path", name])?);
    if path.is_absolute() {
        return Some(path);
    }
    Some(std::env::current_dir().ok()?.join(path))
}

/// The trimmed stdout of a successful `git ARGS`, run in this directory.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_string())
}
