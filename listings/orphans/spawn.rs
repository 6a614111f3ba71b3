//! Starting the book's programs from one another: finding them next to the
//! running binary, and tying a child's life to ours.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
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
    let mut dirs = vec![own_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
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

/// Checks one row of a table tool: a command line in one argument, not
/// empty, and not just the word `docker` (which says where to run the rest).
/// `what` names the argument in the message.
pub fn row_argument(row: OsString, what: &str) -> Result<String, String> {
    match row.into_string() {
        Ok(row) if !words(&row).is_empty() && row.trim() != "docker" => Ok(row),
        _ => Err(format!(
            "each {what} must be a non-empty UTF-8 command line"
        )),
    }
}

/// Splits a command line given as one argument (`"naive-init worker"`)
/// into its words. No quoting: words are separated by whitespace.
pub fn words(command_line: &str) -> Vec<String> {
    command_line.split_whitespace().map(String::from).collect()
}

/// The status a shell shows for a child we started: its exit code, or
/// 128+N when signal N killed it (what `foster::status::shell_status` says
/// for a raw wait status).
pub fn shell_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
