//! foster's log can never hurt the command: with stderr a pipe whose
//! reader has gone, or a file past RLIMIT_FSIZE, foster's own writes fail
//! (and raise SIGPIPE or SIGXFSZ in foster), and the command runs on as if
//! nothing happened; foster still exits with its status, at once. Lost
//! lines are counted and said once stderr works again. As PID 1 and not.

mod common;

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use common::{foster, places, As, Session};

/// A pipe: (read end, write end), both with `flags` (O_NONBLOCK or 0).
fn pipe(flags: i32) -> (OwnedFd, OwnedFd) {
    let mut ends = [0; 2];
    // SAFETY: pipe2(2) writes two descriptors into `ends`, which we then
    // own (each closed once, by its OwnedFd).
    unsafe {
        assert_eq!(libc::pipe2(ends.as_mut_ptr(), flags | libc::O_CLOEXEC), 0);
        (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1]))
    }
}

/// foster's exit status with `args`, its stderr a pipe nobody reads.
fn status_with_stderr_unread(place: As, args: &[&str]) -> Option<i32> {
    let (reader, writer) = pipe(0);
    drop(reader);
    let mut command = foster(place, args);
    command.stderr(Stdio::from(writer));
    command.status().expect("run foster").code()
}

/// `foster -v`'s first lines fail: before foster kept its own SIGPIPE to
/// itself, the command died of it (141).
#[test]
fn a_log_nobody_reads_does_not_kill_the_command() {
    for place in places() {
        let status = status_with_stderr_unread(place, &["-v", "sh", "-c", "sleep 0.5; exit 3"]);
        assert_eq!(status, Some(3), "{place:?}");
    }
}

/// At `-vv` each forwarded signal is logged: had foster forwarded its own
/// SIGPIPE, logging that would raise the next one, forever, and foster
/// would never read the command's SIGCHLD (signals are read lowest number
/// first), so it would run until `timeout` killed it (137).
#[test]
fn at_dash_vv_a_broken_log_does_not_loop() {
    for place in places() {
        let script = "trap '' PIPE; sleep 0.5; exit 3";
        let status = status_with_stderr_unread(place, &["-vv", "sh", "-c", script]);
        assert_eq!(status, Some(3), "{place:?}");
    }
}

/// stderr a file that may not grow (RLIMIT_FSIZE 0, which foster and the
/// command inherit): each write of foster's fails with EFBIG and raises
/// SIGXFSZ, whose default action would kill foster, or the command if it
/// were forwarded (153).
#[test]
fn a_log_past_the_file_size_limit_does_not_kill_anyone() {
    let path = std::env::temp_dir().join(format!("foster-fsize-{}", std::process::id()));
    for place in places() {
        let mut command = foster(place, &["-v", "sh", "-c", "sleep 0.5; exit 3"]);
        command.stderr(File::create(&path).expect("create a log file"));
        // SAFETY: between fork and exec, only setrlimit(2), which is
        // async-signal-safe, reading a struct on the stack.
        unsafe {
            command.pre_exec(|| {
                let none = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_FSIZE, &none);
                Ok(())
            });
        }
        let status = command.status().expect("run foster").code();
        let written = std::fs::metadata(&path).map(|m| m.len()).ok();
        assert_eq!(status, Some(3), "{place:?}");
        assert_eq!(written, Some(0), "{place:?}: the limit held");
    }
    let _ = std::fs::remove_file(&path);
}

/// stderr a full pipe that does not block (a slow log collector): foster's
/// lines are lost, not waited for; once the pipe has room, the next line
/// says how many were lost, once.
#[test]
fn lost_lines_are_counted_and_said_once_the_log_works_again() {
    for place in places() {
        let (reader, writer) = pipe(libc::O_NONBLOCK);
        let mut reader = File::from(reader);
        fill(&writer);
        let script =
            "trap 'echo USR1' USR1; trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done";
        let mut command = foster(place, &["-vv", "sh", "-c", script]);
        command.stderr(Stdio::from(writer));
        let mut session = Session::start_with(command);
        for _ in 0..2 {
            session.signal(libc::SIGUSR1);
            assert_eq!(session.line(), "USR1", "{place:?}");
        }
        drain(&mut reader);
        session.signal(libc::SIGUSR1);
        assert_eq!(session.line(), "USR1", "{place:?}");
        session.signal(libc::SIGTERM);
        assert_eq!(session.finish(), Some(0), "{place:?}");
        let mut log = String::new();
        let _ = reader.read_to_string(&mut log);
        // "started", two "forwarded SIGUSR1", perhaps more: at least 3.
        let lost = log
            .lines()
            .find_map(|line| line.strip_prefix("foster: "))
            .and_then(|line| line.split_once(" earlier message(s) lost"))
            .and_then(|(count, _)| count.parse::<u64>().ok());
        assert!(lost.is_some_and(|n| n >= 3), "{place:?}: {log}");
        assert_eq!(log.matches("lost").count(), 1, "{place:?}: {log}");
        assert!(log.contains("forwarded SIGUSR1"), "{place:?}: {log}");
    }
}

/// Writes to the (non-blocking) pipe `writer` until it is full.
fn fill(writer: &OwnedFd) {
    let block = [b'x'; 4096];
    loop {
        // SAFETY: write(2) reads `block.len()` bytes of `block`.
        let written =
            unsafe { libc::write(writer.as_raw_fd(), block.as_ptr().cast(), block.len()) };
        if written <= 0 {
            break;
        }
    }
}

/// Reads everything there is now from the (non-blocking) `reader`.
fn drain(reader: &mut File) {
    let mut buffer = [0u8; 65536];
    while reader.read(&mut buffer).is_ok_and(|n| n > 0) {}
}
