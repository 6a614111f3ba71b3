//! `--stop-delay D`: the command gets the first SIGTERM no sooner than D
//! after foster did; any other signal at once, and a second SIGTERM at
//! once; the grace time is not shortened by the delay. As PID 1 and not.

mod common;

use std::time::{Duration, Instant};

use common::{foster, places, Session};

/// A command that prints the name of each signal it gets, and exits 0 on
/// SIGTERM after printing `TERM`.
const RECORDER: &str = "trap 'echo USR1' USR1; trap 'echo TERM; exit 0' TERM; \
                        echo ready; while :; do sleep 0.05; done";

#[test]
fn the_first_sigterm_waits_and_other_signals_do_not() {
    let delay = Duration::from_secs(2);
    for place in places() {
        let mut session = Session::start(place, &["--stop-delay", "2s", "sh", "-c", RECORDER]);
        let sent = Instant::now();
        session.signal(libc::SIGTERM);
        session.signal(libc::SIGUSR1);
        // USR1, sent after SIGTERM, comes first: it was not held.
        assert_eq!(session.line(), "USR1", "{place:?}");
        assert_eq!(session.line(), "TERM", "{place:?}");
        let waited = sent.elapsed();
        assert!(waited >= delay, "{place:?}: SIGTERM after {waited:?}");
        assert_eq!(session.finish(), Some(0), "{place:?}");
    }
}

#[test]
fn a_second_sigterm_passes_at_once() {
    for place in places() {
        let mut command = foster(place, &["sh", "-c", RECORDER]);
        // The variable, for once: the same as --stop-delay 30s.
        command.env("FOSTER_STOP_DELAY", "30s");
        let mut session = Session::start_with(command);
        let sent = Instant::now();
        session.signal(libc::SIGTERM);
        // A second SIGTERM sent while the first is still pending would
        // merge with it (signal(7): standard signals do not queue).
        assert!(taken(session.foster, libc::SIGTERM), "{place:?}");
        session.signal(libc::SIGTERM);
        assert_eq!(session.line(), "TERM", "{place:?}");
        // Long before the 30 s, which the test's 60 s limit would end.
        assert!(sent.elapsed() < Duration::from_secs(20), "{place:?}");
        assert_eq!(session.finish(), Some(0), "{place:?}");
    }
}

/// The command exits at once on the delayed SIGTERM and leaves a process
/// that needs a moment to stop: it gets the whole grace time, which
/// starts when the command exits, not when the delay did.
#[test]
fn the_delay_takes_nothing_from_the_grace() {
    let script = "sh -c 'trap \"sleep 0.5; echo slow done; exit 0\" TERM; \
                  while :; do sleep 0.05; done' & \
                  trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done";
    for place in places() {
        // A delay as long as the grace: were it taken from the grace,
        // nothing would be left for the slow process's half second.
        let args = ["--stop-delay", "3s", "--grace", "3s", "sh", "-c", script];
        let mut session = Session::start(place, &args);
        session.signal(libc::SIGTERM);
        assert_eq!(session.line(), "slow done", "{place:?}");
        assert_eq!(session.finish(), Some(0), "{place:?}");
    }
}

#[test]
fn the_delay_is_said_at_dash_v() {
    let log = std::env::temp_dir().join(format!("foster-delay-{}.log", std::process::id()));
    let mut command = foster(
        common::As::Process,
        &["-v", "--stop-delay", "100ms", "sh", "-c", RECORDER],
    );
    command.stderr(std::fs::File::create(&log).expect("create a log file"));
    let mut session = Session::start_with(command);
    session.signal(libc::SIGTERM);
    assert_eq!(session.line(), "TERM");
    assert_eq!(session.finish(), Some(0));
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(said.contains("SIGTERM: passing it on in 100ms"), "{said}");
    assert!(said.contains("stop delay over"), "{said}");
}

/// Waits (five seconds at most) until `pid` has taken `signal` off its
/// pending set, as foster's signalfd read does: `ShdPnd`, the process's
/// pending signals in /proc/PID/status, a mask in hex whose bit N-1 is
/// signal N (proc(5)). False if it is still pending then.
fn taken(pid: i32, signal: i32) -> bool {
    let pending = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("ShdPnd:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
    };
    common::eventually(Duration::from_secs(5), || !pending())
}
