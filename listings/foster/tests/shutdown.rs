//! The grace shutdown: SIGTERM to every process left when the command
//! exits, the grace time, then SIGKILL, bounded by a deadline; only ever
//! foster's own processes.

mod common;

use std::time::{Duration, Instant};

use common::{foster, places, skip, text, As, Session};

/// foster's SIGKILL phase lasts at most this long (shutdown::KILL_WAIT).
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Three processes outlive the command: one in a new session (setsid), one
/// that needs time to clean up after SIGTERM, one that ignores SIGTERM and
/// writes its PID to `dir/stubborn`. Each writes a marker file when its
/// trap is set; the command waits for the three, then exits 7.
fn leftovers_script(dir: &str) -> String {
    format!(
        r#"
setsid sh -c 'trap "echo session got TERM; exit 0" TERM; touch {dir}/a; while :; do sleep 0.05; done' &
sh -c 'trap "echo slow got TERM; sleep 0.3; echo slow done; exit 0" TERM; touch {dir}/b; while :; do sleep 0.05; done' &
sh -c 'trap "" TERM; echo $$ > {dir}/stubborn.new; mv {dir}/stubborn.new {dir}/stubborn; exec sleep 60' &
until [ -e {dir}/a ] && [ -e {dir}/b ] && [ -e {dir}/stubborn ]; do sleep 0.01; done
exit 7
"#
    )
}

fn check_grace_shutdown(place: As) {
    let dir = std::env::temp_dir().join(format!("foster-grace-{}-{place:?}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("make a directory");
    let script = leftovers_script(dir.to_str().expect("UTF-8"));
    let grace = Duration::from_secs(1);
    let started = Instant::now();
    let output = common::run(place, &["-v", "--grace", "1s", "sh", "-c", &script]);
    let elapsed = started.elapsed();
    let stubborn: Option<i32> = std::fs::read_to_string(dir.join("stubborn"))
        .ok()
        .and_then(|pid| pid.trim().parse().ok());
    let _ = std::fs::remove_dir_all(&dir);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(7), "{place:?}: {stderr}");
    assert!(stdout.contains("session got TERM"), "{stdout}");
    assert!(stdout.contains("slow got TERM") && stdout.contains("slow done"));
    // The one that ignores SIGTERM kept foster waiting for the whole grace
    // time, then got SIGKILL, which worked at once: one line says so, and
    // foster did not wait out the SIGKILL phase's deadline.
    assert!(elapsed >= grace, "{elapsed:?}");
    // (No "still alive" line, below, is the exact check; this bound only
    // catches a wait far too long, with room for a busy machine's starts.)
    assert!(
        elapsed < grace + KILL_WAIT + Duration::from_secs(10),
        "{place:?}: {elapsed:?}: {stderr}"
    );
    let term = stderr.find("sent SIGTERM").expect("foster reports SIGTERM");
    let kill = stderr.find("sent SIGKILL").expect("foster reports SIGKILL");
    assert!(term < kill, "{stderr}");
    assert_eq!(stderr.matches("SIGKILL").count(), 1, "{stderr}");
    assert!(!stderr.contains("still alive"), "{stderr}");
    // Not PID 1, nothing else would have killed it: it is gone because
    // foster killed and reaped it. (As PID 1 its PID was the namespace's.)
    if place == As::Process {
        let pid = stubborn.expect("the stubborn process's PID");
        assert_eq!(foster::procfs::state(pid), None, "{pid} is still there");
    }
}

#[test]
fn grace_then_sigkill_and_every_process_is_gone() {
    for place in places() {
        check_grace_shutdown(place);
    }
}

#[test]
fn grace_zero_exits_at_once_like_tini() {
    for place in places() {
        // The sleep's output goes elsewhere, so that the test reads
        // foster's to the end as soon as foster exits.
        let script = "sleep 30 >/dev/null 2>&1 & echo $!; exit 5";
        let started = Instant::now();
        let output = common::run(place, &["-v", "--grace", "0", "sh", "-c", script]);
        assert_eq!(output.status.code(), Some(5));
        assert!(started.elapsed() < Duration::from_secs(20));
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("SIGTERM"), "{stderr}");
        // Not PID 1, foster left it running, as tini would.
        if place == As::Process {
            let pid: i32 = text(&output.stdout).trim().parse().expect("a PID");
            assert!(matches!(foster::procfs::state(pid), Some('S' | 'R')));
            // SAFETY: kill(2) takes two integers and touches no memory.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// A process held where foster cannot reap it: the test attaches to it
/// with ptrace(2) (`PTRACE_SEIZE`, which stops nothing by itself). A
/// tracee's death is reported to its tracer first, and until the tracer
/// has waited for it, its parent's waitpid(2) sees a child that has not
/// ended ("A zombie ptracee is only visible to its ptracer",
/// wait_consider_task, kernel/exit.c). To foster it is a process that
/// outlives SIGKILL, as one in uninterruptible sleep would, on any
/// kernel and cgroup version.
struct Held(i32);

impl Held {
    /// `Err` says why the kernel refused (Yama's `ptrace_scope` at 3, a
    /// seccomp filter that forbids ptrace, a missing capability).
    fn seize(pid: i32) -> Result<Held, String> {
        // SAFETY: ptrace(2) with integer arguments; PTRACE_SEIZE reads no
        // memory of ours.
        let seized = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0) };
        if seized == 0 {
            Ok(Held(pid))
        } else {
            Err(format!(
                "ptrace(PTRACE_SEIZE) refused ({}): no way to hold a process past SIGKILL",
                std::io::Error::last_os_error()
            ))
        }
    }
}

impl Drop for Held {
    /// Waits for each report of the tracee until its death has been
    /// reported (it has been SIGKILLed by then), which lets it go; a stop
    /// (a signal the test did not ask for) is let go on with PTRACE_CONT.
    fn drop(&mut self) {
        for _ in 0..100 {
            let mut status = 0;
            // SAFETY: waitpid writes one c_int to `status`, alive for the call.
            let found = unsafe { libc::waitpid(self.0, &mut status, libc::__WALL) };
            if found != self.0 || libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                return;
            }
            // SAFETY: ptrace(2) with integer arguments.
            unsafe { libc::ptrace(libc::PTRACE_CONT, self.0, 0, 0) };
        }
    }
}

/// A process that foster cannot reap after SIGKILL ([`Held`]) keeps
/// foster in its SIGKILL phase until the deadline, not longer, and not
/// shorter however many other signals come meanwhile; one line says
/// SIGKILL was sent, one that some process outlived it.
#[test]
fn the_sigkill_phase_ends_at_its_deadline_with_one_line() {
    // The command ignores SIGUSR1, which the test sends from the start.
    let script = "trap '' USR1; sh -c 'trap \"\" TERM; exec sleep 60' & echo $!; echo ready; read go; exit 5";
    let mut command = foster(As::Process, &["-v", "--grace", "200ms", "sh", "-c", script]);
    let log = std::env::temp_dir().join(format!("foster-frozen-{}.log", std::process::id()));
    command
        .stdin(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("create a log file"));
    let mut session = Session::start_with(command);
    let sleep: i32 = session.before_ready[0].parse().expect("the PID of sleep");
    let held = match Held::seize(sleep) {
        Ok(held) => held,
        Err(reason) => {
            // foster ends the sleep as it would any leftover.
            session.write_line("go");
            let _ = session.finish();
            common::skip_unless("ORPHANS_REQUIRE_PTRACE", Some(reason));
            return;
        }
    };
    session.write_line("go");
    let exited = Instant::now();
    // Other signals during the SIGKILL phase must not cut it short.
    while !session.has_finished() {
        session.signal_if_alive(libc::SIGUSR1);
        std::thread::sleep(Duration::from_millis(10));
    }
    let waited = exited.elapsed();
    let status = session.finish();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    drop(held);
    assert_eq!(status, Some(5), "{stderr}");
    assert!(waited >= KILL_WAIT, "{waited:?}: {stderr}");
    assert!(waited < KILL_WAIT + Duration::from_secs(5), "{waited:?}");
    assert_eq!(stderr.matches("sent SIGKILL").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("still alive").count(), 1, "{stderr}");
}

/// Not PID 1, with the `/proc` of another PID namespace (here: the
/// host's, seen from inside a new namespace where foster is PID 2), the
/// PIDs there are not foster's: it says so, and the grace shutdown leaves
/// the processes alone instead of signalling whoever has those numbers.
#[test]
fn a_proc_of_another_namespace_is_not_read() {
    if skip(As::Pid1) {
        return;
    }
    // dash stays PID 1 for `sh -c 'CMD; true'`; foster is its child, PID 2.
    let line = format!(
        "{} -v --grace 10s sh -c 'sleep 30 >/dev/null 2>&1 & exit 4'; true",
        *common::FOSTER
    );
    let started = Instant::now();
    let output = common::command("timeout")
        .args([
            "-s",
            "KILL",
            common::LIMIT,
            "unshare",
            "--pid",
            "--fork",
            "sh",
            "-c",
            &line,
        ])
        .output()
        .expect("run unshare");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("/proc belongs to another PID namespace"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot find the remaining processes"),
        "{stderr}"
    );
    assert!(!stderr.contains("sent SIGTERM"), "{stderr}");
    // It did not wait out the grace time for processes it cannot stop.
    assert!(started.elapsed() < Duration::from_secs(10), "{stderr}");
}
