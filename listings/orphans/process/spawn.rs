//! Starting programs: finding the book's own next to the running binary
//! and others on `$PATH` (as a shell would), and tying a child's life to
//! ours.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::prctl;
use nix::sys::signal::Signal;

/// The directory of the running program: cargo puts all the book's
/// binaries there (`target/debug`).
pub fn own_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The path of the book's program `name`, next to the running one.
pub fn sibling(name: &str) -> PathBuf {
    own_dir().join(name)
}

/// `$PATH` with [`own_dir`] in front, so that a command line such as
/// `naive-init worker` finds the book's programs first.
pub fn path_with_siblings() -> OsString {
    path_with(vec![own_dir()])
}

/// `$PATH` with `dirs` in front.
pub fn path_with(mut dirs: Vec<PathBuf>) -> OsString {
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Whether `path` is a file that may be run: a regular file with an
/// execute bit (what a shell's search of `$PATH` accepts, execve(2)).
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The first executable file called `name` in the directories of `path`
/// (a `$PATH`-like list), as a shell would find it.
pub fn find_in(name: &str, path: &OsString) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// [`find_in`] the caller's `$PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    find_in(name, &std::env::var_os("PATH")?)
}

/// The program a command line names, found in `path` as a shell would: a
/// name with a `/` is used as it is, and a name found nowhere too (so that
/// starting it fails with the shell's ENOENT).
pub fn program_in(name: &OsString, path: &OsString) -> PathBuf {
    let as_given = Path::new(name);
    if as_given.components().count() > 1 {
        return as_given.to_path_buf();
    }
    name.to_str()
        .and_then(|name| find_in(name, path))
        .unwrap_or_else(|| as_given.to_path_buf())
}

/// Makes the child that `command` starts receive SIGKILL when we die
/// (prctl(2), `PR_SET_PDEATHSIG`), so that killing a table tool or a test
/// never leaves a container behind. Only for single-threaded callers: the
/// signal comes when the *thread* that forked exits.
pub fn dying_with_us(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls are allowed; prctl(2) is a plain system
    // call that allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(|| {
            prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_is_an_executable_file() {
        assert!(is_executable(Path::new("/bin/sh")));
        assert!(!is_executable(Path::new("/no/such/program")));
        assert!(!is_executable(Path::new("/")), "a directory is not one");
        let plain = std::env::temp_dir().join(format!("orphans-plain-{}", std::process::id()));
        std::fs::write(&plain, "text").expect("write a plain file");
        assert!(!is_executable(&plain), "a file without x bits is not one");
        let _ = std::fs::remove_file(&plain);
    }

    #[test]
    fn programs_are_found_as_a_shell_finds_them() {
        let path = OsString::from("/nonexistent:/bin:/usr/bin");
        assert!(find_in("sh", &path).is_some_and(|p| p.ends_with("sh")));
        assert_eq!(find_in("no-such-program-here", &path), None);
        assert_eq!(program_in(&"./x/y".into(), &path), PathBuf::from("./x/y"));
        assert_eq!(
            program_in(&"nope-404".into(), &path),
            PathBuf::from("nope-404")
        );
    }
}
