//! foster exits with its command's status, as a shell reports it, however
//! the command ends: an exit code, any signal from 1 to 64 (128+N), a core
//! dump; and a command that stops and continues has not ended.

mod common;

use common::{places, run, status_of, text, As, Session, FOSTER};

#[test]
fn exit_codes_pass_through() {
    for place in places() {
        for code in [0, 3, 255] {
            assert_eq!(
                status_of(place, &format!("exit {code}")),
                Some(code),
                "{place:?}"
            );
        }
    }
}

/// Classic signals and real-time ones (34 and up with glibc, 35 with musl:
/// nix's decoder, which foster used before, hung on all of those).
#[test]
fn death_by_a_signal_gives_128_plus_its_number() {
    let rtmin = libc::SIGRTMIN();
    let signals = [1, 2, 9, 10, 15, rtmin, rtmin + 6, 50, libc::SIGRTMAX()];
    for place in places() {
        for signal in signals {
            // `trap - N`: the shell's default action, even for signals a
            // shell would catch or ignore itself.
            let script = format!("trap - {signal}; kill -s {signal} $$; sleep 5");
            assert_eq!(
                status_of(place, &script),
                Some(128 + signal),
                "{place:?}, signal {signal}"
            );
        }
    }
}

/// With `ulimit -c` raised, SIGQUIT, SIGSEGV and SIGABRT make the kernel
/// write a core file first; the status still says 128+N. The core goes to
/// `core_pattern` (often a file `core` in the command's directory, or a
/// crash handler), so the command runs in a directory of its own.
#[test]
fn a_core_dump_is_still_128_plus_n() {
    let dir = std::env::temp_dir().join(format!("foster-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("make a directory");
    for place in places() {
        for signal in [libc::SIGQUIT, libc::SIGSEGV, libc::SIGABRT] {
            let script = format!(
                "cd {}; ulimit -c unlimited; trap - {signal}; kill -s {signal} $$; sleep 5",
                dir.display()
            );
            let output = run(place, &["-v", "sh", "-c", &script]);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(128 + signal), "{stderr}");
            // -v names how the command ended; "(core dumped)" only where
            // the kernel dumped (RLIMIT_CORE is honoured for a file
            // pattern; a pipe pattern may decline).
            assert!(stderr.contains("killed by SIG"), "{stderr}");
            if signal == libc::SIGSEGV && core_goes_to_a_file() {
                assert!(stderr.contains("(core dumped)"), "{stderr}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether `/proc/sys/kernel/core_pattern` names a file (not `|handler`),
/// for which the kernel dumps whenever RLIMIT_CORE allows (core(5)).
fn core_goes_to_a_file() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/core_pattern")
        .is_ok_and(|pattern| !pattern.trim().is_empty() && !pattern.starts_with('|'))
}

/// SIGSTOP and SIGCONT sent to the command: it has stopped and continued,
/// not ended, and foster goes on waiting for its real exit status.
#[test]
fn a_command_that_stops_and_continues_has_not_ended() {
    for place in places() {
        let script = "echo ready; read line; exit 6";
        let mut command = common::foster(place, &["sh", "-c", script]);
        command.stdin(std::process::Stdio::piped());
        let mut session = Session::start_with(command);
        let shell = common::first_child_of(session.foster as u32) as i32;
        assert_eq!(common::comm(shell as u32), "sh");
        for signal in [libc::SIGSTOP, libc::SIGCONT, libc::SIGTSTP, libc::SIGCONT] {
            // SAFETY: kill(2) takes two integers and touches no memory.
            assert_eq!(unsafe { libc::kill(shell, signal) }, 0);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // Still running: its `read` returns on the line we send now.
        session.write_line("go");
        assert_eq!(session.finish(), Some(6), "{place:?}");
    }
}

#[test]
fn a_command_that_cannot_run_gives_127_or_126() {
    let missing = run(As::Process, &["/no/such/program"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(text(&missing.stderr).contains("'/no/such/program'"));
    let file = std::env::temp_dir().join(format!("foster-plain-{}", std::process::id()));
    std::fs::write(&file, "not a program\n").expect("write a plain file");
    let not_executable = run(As::Process, &[file.to_str().expect("UTF-8")]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(not_executable.status.code(), Some(126));
    assert!(text(&not_executable.stderr).contains("Permission denied"));
}

#[test]
fn dash_e_maps_listed_statuses_to_zero() {
    let status = |args: &[&str]| run(As::Process, args).status.code();
    assert_eq!(status(&["-e", "3", "sh", "-c", "exit 3"]), Some(0));
    assert_eq!(
        status(&["-e", "3", "-e", "143", "sh", "-c", "kill $$"]),
        Some(0)
    );
    assert_eq!(status(&["-e", "3", "sh", "-c", "exit 4"]), Some(4));
}

#[test]
fn bad_input_gives_a_message_the_usage_and_2() {
    for args in [
        &["--bogus", "true"][..],
        &[],
        &["-e", "300", "true"],
        &["-r", "TERM", "true"],
        &["--grace", "soon", "true"],
        &["--grace", "1e19", "true"],
        &["-p", "RTMIN+2147483647", "true"],
    ] {
        let output = run(As::Process, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains("usage: foster"), "{args:?}");
    }
    let mut command = common::command(&FOSTER);
    command.env("FOSTER_GRACE", "inf").arg("true");
    assert_eq!(command.output().expect("run foster").status.code(), Some(2));
    let help = run(As::Process, &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("at most 24h"));
}

/// The form Docker parses when foster is the daemon's init: it keeps what
/// follows " - git." as the init's commit.
#[test]
fn the_version_is_in_the_form_docker_parses() {
    let output = run(As::Process, &["--version"]);
    let version = text(&output.stdout);
    let (name, commit) = version
        .trim()
        .split_once(" - git.")
        .unwrap_or_else(|| panic!("no ' - git.' in {version:?}"));
    assert_eq!(name, concat!("foster version ", env!("CARGO_PKG_VERSION")));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit:?}"
    );
}
