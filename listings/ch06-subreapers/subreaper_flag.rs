//! The child-subreaper flag: who has it after fork(2) and execve(2), and
//! what `/proc` says about it.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use nix::sys::prctl::{get_child_subreaper, set_child_subreaper};
use nix::unistd::execv;
use orphans::cli::{self, Request};

const USAGE: &str = "\
usage: subreaper_flag

Sets the child-subreaper flag (prctl PR_SET_CHILD_SUBREAPER) and shows
who has it: this process, a child it starts, and this process after
execve(2). It runs itself again for the last two, with --child and
--after-execve.

  -V, --version   show the version
  -h, --help      show this help";

/// Which of its runs this is: the program starts itself again.
#[derive(Debug, PartialEq)]
enum Run {
    First,
    Child,
    AfterExecve,
}

// ANCHOR: main
fn main() -> Result<(), Box<dyn std::error::Error>> {
    match cli::options_or_exit("subreaper_flag", USAGE, parse) {
        Run::Child => return report("a child, after fork and execve"),
        Run::AfterExecve => return report("this process, after execve"),
        Run::First => {}
    }
    report("this process, at first")?;
    set_child_subreaper(true)?;
    report("this process, after PR_SET_CHILD_SUBREAPER")?;
    println!("/proc/self/status lines about it: {}", proc_mentions()?);
    // The flag survives execve (see the last line), so if this child lacks
    // it, it is fork(2) that did not pass it on.
    let me = std::env::current_exe()?;
    let child = Command::new(&me).arg("--child").output()?;
    print!("{}", String::from_utf8_lossy(&child.stdout));
    // Replace our own program with a fresh copy of it: same PID, same flag.
    let path = CString::new(me.as_os_str().as_bytes())?;
    execv(&path, &[path.clone(), CString::new("--after-execve")?])?;
    Ok(())
}
// ANCHOR_END: main

/// Prints PR_GET_CHILD_SUBREAPER: it reads the caller's own flag, and
/// there is no way to ask it about another process.
fn report(who: &str) -> Result<(), Box<dyn std::error::Error>> {
    let flag = if get_child_subreaper()? { "yes" } else { "no" };
    println!("{who:<44} subreaper: {flag}");
    Ok(())
}

/// How many lines of our own `/proc/PID/status` mention a reaper: none,
/// since procfs does not export the flag (fs/proc/array.c). The `Name:`
/// line is skipped: this program's own name contains the word.
fn proc_mentions() -> std::io::Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let about_it = |line: &&str| !line.starts_with("Name:") && line.contains("eaper");
    Ok(status.lines().filter(about_it).count())
}

fn parse(args: Vec<OsString>) -> Result<Request<Run>, String> {
    use lexopt::prelude::*;
    let mut run = Run::First;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("child") => run = Run::Child,
            Long("after-execve") => run = Run::AfterExecve,
            other => return cli::other(other),
        }
    }
    Ok(Request::Run(run))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn the_three_runs() {
        assert_eq!(options(parse, &[]), Run::First);
        assert_eq!(options(parse, &["--child"]), Run::Child);
        assert_eq!(options(parse, &["--after-execve"]), Run::AfterExecve);
        help_and_version(parse);
        assert!(refusal(parse, &["--chld"]).contains("--chld"));
    }
}
