//! A zombie's short life: a child exits, lingers as a zombie until its
//! parent waits for it, and is gone once it has been reaped.

use std::process::Command;

use nix::sys::wait::{waitid, Id, WaitPidFlag};
use nix::unistd::Pid;
use orphans::process::procfs::state;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut child = Command::new("true").spawn()?;
    let pid = child.id() as i32;
    println!("child {pid} started");

    // ANCHOR: linger
    // waitid(2) with WNOWAIT: block until the child has exited, but leave it
    // "in a waitable state": the kernel keeps it as a zombie.
    waitid(
        Id::Pid(Pid::from_raw(pid)),
        WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
    )?;
    println!(
        "child {pid} exited:   /proc says state {}",
        shown(state(pid))
    );
    // ANCHOR_END: linger

    // ANCHOR: reap
    // A real wait reaps it: the exit status is collected and the process
    // table entry and its PID are freed.
    let status = child.wait()?;
    println!(
        "child {pid} reaped:   /proc says {} ({status})",
        shown(state(pid))
    );
    // ANCHOR_END: reap
    assert_eq!(state(pid), None, "a reaped child leaves no trace in /proc");
    Ok(())
}

/// A state letter as the table in proc(5) names it.
fn shown(state: Option<char>) -> String {
    match state {
        Some('Z') => "Z (zombie)".into(),
        Some(letter) => letter.to_string(),
        None => "nothing: no such process".into(),
    }
}
