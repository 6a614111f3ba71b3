//! Gives foster's `--version` the commit it was built from, in the form
//! Docker parses (`foster version 0.1.0 - git.1a2b3c4`): the short hash of
//! `git rev-parse`, or `unknown` when there is no git or no checkout (a
//! source tarball), which Docker parses just as well.

use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=FOSTER_COMMIT={commit}");
    // Build again when HEAD moves: a commit, a checkout, a rebase. In a
    // worktree HEAD is the worktree's, the branches are the repository's.
    for file in ["HEAD", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", file]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &branch]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// The trimmed stdout of a successful `git ARGS`, run in this directory.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_string())
}
