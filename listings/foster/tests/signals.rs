//! Every signal sent to foster reaches the command: the ordinary ones,
//! real-time ones, and the synchronous ones (SIGSEGV, SIGILL…) when a
//! process sent them with kill(2); a fault of foster's own still kills it.
//! The command inherits what foster's parent ignored.

mod common;

use std::time::Duration;

use common::{foster, places, text, As, Session, FOSTER};

/// A shell that prints the number of each signal in `numbers` it gets and
/// exits 0 on SIGTERM.
fn recorder(numbers: &[i32]) -> String {
    let traps: String = numbers
        .iter()
        .map(|n| format!("trap 'echo {n}' {n}\n"))
        .collect();
    format!("{traps}trap 'echo TERM; exit 0' TERM\necho ready\nwhile :; do sleep 0.05; done\n")
}

/// Sends each of `numbers` to foster and checks that the command printed
/// it, then stops the command with SIGTERM and checks foster's status: if
/// forwarding broke, the command would not exit 0 and print TERM.
fn check_forwarding(place: As, args: &[&str], numbers: &[i32]) {
    let script = recorder(numbers);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["sh", "-c", &script]);
    let mut session = Session::start(place, &all);
    for &number in numbers {
        session.signal(number);
        assert_eq!(
            session.line(),
            number.to_string(),
            "{place:?}: signal {number}"
        );
    }
    session.signal(libc::SIGTERM);
    assert_eq!(session.line(), "TERM");
    assert_eq!(session.finish(), Some(0), "{place:?}: foster's status");
}

#[test]
fn signals_are_forwarded_and_the_status_is_the_commands() {
    use libc::*;
    let numbers = [
        SIGHUP,
        SIGINT,
        SIGQUIT,
        SIGUSR1,
        SIGUSR2,
        SIGWINCH,
        SIGCONT,
        SIGALRM,
        // As foster's own writes raise them, but sent by a process.
        SIGPIPE,
        SIGXFSZ,
        SIGRTMIN(),
        SIGRTMIN() + 6,
        SIGRTMAX(),
    ];
    for place in places() {
        check_forwarding(place, &[], &numbers);
    }
}

/// The signals the C libraries keep for themselves (32 and 33 in glibc,
/// 32 to 34 in musl) are left out of sigfillset(3); sent to an init that
/// does not block them, their default action kills it. foster forwards
/// them like any other. Whether the command then dies of one depends on
/// whether it inherited it ignored (glibc's posix_spawn leaves 32 and 33
/// ignored in the programs it starts), so either foster reports the
/// command's death, 128+N, or the command lives on and a SIGTERM ends it;
/// what may not happen is foster dying of N. Not PID 1, and with no
/// `timeout` between the test and foster, so that its death would show.
#[test]
fn the_c_library_s_own_signals_do_not_end_foster() {
    use std::os::unix::process::ExitStatusExt;
    for number in [32, 33, 34] {
        let mut command = common::command(&FOSTER);
        command.args(["sh", "-c", "echo ready; exec sleep 30"]);
        let mut session = Session::start_with(command);
        session.signal(number);
        let mut waited = 0;
        while !session.has_finished() && waited < 50 {
            std::thread::sleep(Duration::from_millis(10));
            waited += 1;
        }
        session.signal_if_alive(libc::SIGTERM);
        let status = session.finish_status();
        assert_ne!(status.signal(), Some(number), "foster died of {number}");
        let expected = [Some(128 + number), Some(128 + libc::SIGTERM)];
        assert!(expected.contains(&status.code()), "{number}: {status:?}");
    }
}

/// dumb-init forwards these; tini and foster before issue 13 died of
/// them (or, for SIGSEGV and SIGBUS, had Rust's stack-overflow handler
/// swallow the first one).
#[test]
fn synchronous_signals_sent_with_kill_are_forwarded() {
    use libc::*;
    let numbers = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT];
    for place in places() {
        // Twice each: the second SIGSEGV killed the old foster.
        let twice: Vec<i32> = numbers.iter().flat_map(|&n| [n, n]).collect();
        check_forwarding(place, &[], &twice);
    }
}

#[test]
fn dash_r_rewrites_or_drops_signals() {
    let place = As::Process;
    let script = recorder(&[libc::SIGUSR2, libc::SIGHUP]);
    let mut session = Session::start(
        place,
        &["-r", "USR1:USR2", "-r", "HUP:0", "sh", "-c", &script],
    );
    session.signal(libc::SIGHUP);
    session.signal(libc::SIGUSR1);
    // A forwarded HUP would come first: foster reads, and the shell runs
    // its traps, in signal-number order.
    assert_eq!(session.line(), libc::SIGUSR2.to_string());
    session.signal(libc::SIGTERM);
    assert_eq!(session.line(), "TERM");
    assert_eq!(session.finish(), Some(0));
}

/// The outer shell waits for the inner one, which only ends if USR1
/// reaches it too.
const GROUP_SCRIPT: &str = r#"
trap 'echo outer USR1' USR1
sh -c 'trap "echo inner USR1; exit 0" USR1; echo ready; while :; do sleep 0.05; done'
"#;

#[test]
fn dash_g_and_tini_kill_process_group_reach_the_group() {
    let place = As::Process;
    let mut session = Session::start(place, &["-g", "sh", "-c", GROUP_SCRIPT]);
    session.signal(libc::SIGUSR1);
    assert_eq!(session.line(), "inner USR1");
    assert_eq!(session.line(), "outer USR1");
    assert_eq!(session.finish(), Some(0));
    let mut command = foster(place, &["sh", "-c", GROUP_SCRIPT]);
    command.env("TINI_KILL_PROCESS_GROUP", "1");
    let mut session = Session::start_with(command);
    session.signal(libc::SIGUSR1);
    assert_eq!(session.line(), "inner USR1");
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn without_dash_g_only_the_command_gets_the_signal() {
    let mut session = Session::start(As::Process, &["sh", "-c", GROUP_SCRIPT]);
    session.signal(libc::SIGUSR1);
    // SIGTERM kills the outer shell (it has no trap for it); foster's grace
    // shutdown then stops the inner one. Neither prints "inner USR1".
    session.signal(libc::SIGTERM);
    let rest: Vec<String> =
        std::iter::from_fn(|| Some(session.line()).filter(|l| !l.is_empty())).collect();
    assert!(!rest.contains(&"inner USR1".to_string()), "{rest:?}");
    assert_eq!(session.finish(), Some(128 + libc::SIGTERM));
}

/// The signals the command finds ignored (`SigIgn` in /proc/PID/status,
/// a bit mask: bit N-1 for signal N), but for 32 to 34: the C libraries
/// keep those for themselves (glibc's posix_spawn even leaves the first
/// two ignored in the programs it starts), so they say nothing of foster.
fn ignored_by_the_command(place: As, ignore_first: &[i32]) -> u64 {
    // Not under `timeout`, which sets some dispositions of its own.
    let line = common::unbounded(place, &["sh", "-c", "grep SigIgn /proc/self/status"]);
    let mut command = common::command(&line[0]);
    command.args(&line[1..]);
    let ignore = ignore_first.to_vec();
    // SAFETY: between fork and exec, only sigaction(2), async-signal-safe;
    // SIG_IGN installs no handler.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(move || {
            for &signal in &ignore {
                libc::signal(signal, libc::SIG_IGN);
            }
            Ok(())
        });
    }
    let output = command.output().expect("run foster");
    let line = text(&output.stdout);
    let hex = line.trim().trim_start_matches("SigIgn:").trim();
    let mask = u64::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("no SigIgn in {line:?}"));
    const LIBC_INTERNAL: u64 = 0b111 << 31;
    mask & !LIBC_INTERNAL
}

/// tini keeps ignored dispositions; so does foster now (`nohup foster
/// CMD` leaves CMD's SIGHUP ignored), but not SIGCHLD, which foster needs.
/// SIGPIPE, which Rust's runtime ignores in foster, and SIGXFSZ, which
/// foster ignores, are ignored for the command only if foster's parent
/// ignored them.
#[test]
fn the_command_inherits_what_foster_s_parent_ignored() {
    use libc::*;
    let bit = |signal: i32| 1u64 << (signal - 1);
    for place in places() {
        assert_eq!(ignored_by_the_command(place, &[]), 0, "{place:?}");
        let inherited = [SIGHUP, SIGINT, SIGTTOU, SIGPIPE, SIGXFSZ, 40];
        let mut given = inherited.to_vec();
        given.push(SIGCHLD);
        let expected = inherited.iter().map(|&s| bit(s)).fold(0, |a, b| a | b);
        assert_eq!(
            ignored_by_the_command(place, &given),
            expected,
            "{place:?}: all but SIGCHLD"
        );
    }
}

/// A fault in foster itself still kills it, although foster blocks the
/// synchronous signals: a seccomp filter makes kill(2) raise SIGSYS in
/// foster (seccomp(2), SECCOMP_RET_TRAP), which happens when foster
/// forwards the test's SIGTERM. The kernel forces such a signal through
/// the block; foster dies of SIGSYS rather than carrying on.
#[test]
fn a_fault_of_foster_s_own_still_kills_it() {
    use std::os::unix::process::ExitStatusExt;
    // No `timeout` here: the command ends by itself within 10 s whatever
    // foster does (and a foster that survived would exit 0 then).
    let mut command = common::command(&FOSTER);
    command.args(["sh", "-c", "echo ready; exec sleep 10"]);
    // SAFETY: between fork and exec, only prctl(2) calls, which are
    // async-signal-safe; the filter is a stack array read by the kernel
    // during the call.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(trap_kill_syscalls);
    }
    let session = Session::start_with(command);
    session.signal(libc::SIGTERM);
    let status = session.finish_status();
    assert_eq!(status.signal(), Some(libc::SIGSYS), "{status:?}");
}

/// Installs a seccomp filter: the kill(2) system call raises SIGSYS, every
/// other call is allowed. Inherited by exec'd programs (no_new_privs).
fn trap_kill_syscalls() -> std::io::Result<()> {
    use libc::*;
    const LOAD_NR: u16 = (BPF_LD | BPF_W | BPF_ABS) as u16;
    const IF_EQUAL: u16 = (BPF_JMP | BPF_JEQ | BPF_K) as u16;
    const RETURN: u16 = (BPF_RET | BPF_K) as u16;
    let program = [
        // seccomp_data.nr, at offset 0: the system call's number.
        sock_filter {
            code: LOAD_NR,
            jt: 0,
            jf: 0,
            k: 0,
        },
        sock_filter {
            code: IF_EQUAL,
            jt: 0,
            jf: 1,
            k: SYS_kill as u32,
        },
        sock_filter {
            code: RETURN,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_TRAP,
        },
        sock_filter {
            code: RETURN,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        },
    ];
    let filter = sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut sock_filter,
    };
    // SAFETY: prctl(2) with integer arguments, and a pointer to `filter`,
    // which outlives the call.
    let ok = unsafe {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            && prctl(
                PR_SET_SECCOMP,
                SECCOMP_MODE_FILTER,
                &filter as *const sock_fprog,
            ) == 0
    };
    if ok {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `kill(2)` from the command's own shell to foster also works for the
/// command's own process group leader: here the command signals foster
/// (its parent) with SIGSEGV, which must come back to it.
#[test]
fn a_command_may_send_foster_a_synchronous_signal() {
    let script = "trap 'echo got SEGV; exit 4' SEGV; kill -s SEGV $PPID; sleep 5; exit 1";
    let output = common::run(As::Process, &["sh", "-c", script]);
    assert_eq!(text(&output.stdout).trim(), "got SEGV");
    assert_eq!(output.status.code(), Some(4));
}

#[test]
fn an_idle_foster_never_wakes_up() {
    // A sleep long enough to outlast the test on a busy machine: its exit
    // would wake foster, rightly.
    let session = Session::start(As::Process, &["sh", "-c", "echo ready; exec sleep 60"]);
    // Counted from when foster waits in read(2) on its signalfd
    // (/proc/PID/syscall, proc(5): the number of the blocking call).
    let in_read = || {
        let call = std::fs::read_to_string(format!("/proc/{}/syscall", session.foster));
        call.is_ok_and(|call| call.split_whitespace().next() == Some(&libc::SYS_read.to_string()))
    };
    // Where /proc/PID/syscall cannot be read, counting starts anyway.
    let _ = common::eventually(Duration::from_secs(10), in_read);
    let wake_ups = |pid| foster::procfs::voluntary_switches(pid).expect("a status file");
    let before = wake_ups(session.foster);
    // tini would wake up once here: it polls with a one-second timeout.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        wake_ups(session.foster),
        before,
        "foster woke up while idle"
    );
    session.signal(libc::SIGTERM);
    assert_eq!(session.finish(), Some(143));
}
