//! foster reaps every process that ends up as its child, with its status,
//! whatever else happens meanwhile: 10,000 signals, a parent that ignored
//! SIGCHLD. Not PID 1 it adopts orphans as a child subreaper.

mod common;

use std::time::{Duration, Instant};

use common::{places, run, text, As, Session, FOSTER};

/// Makes orphans until the file `stop` appears in `dir`, each one exiting
/// 7 (`(exit 7 &)`: the subshell's background child outlives the subshell),
/// then waits (5 s at most) until foster has no zombie child left, and
/// says how many it made and how many zombies were left.
fn orphanage(dir: &str) -> String {
    format!(
        r#"trap : 40
trap '' USR1
echo ready
n=0
while [ ! -e {dir}/stop ]; do (exit 7 &); n=$((n+1)); done
zombies() {{
  z=0
  for p in $(cat /proc/$PPID/task/*/children); do
    [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" = Z ] && z=$((z+1))
  done
  echo $z
}}
i=0
while [ "$(zombies)" != 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "made=$n zombies=$(zombies)"
exit 3
"#
    )
}

/// 10,000 signals (SIGUSR1, which queues at most once, and signal 40,
/// which queues each time) sent to foster while the command makes orphans;
/// then the orphans must all be reaped. With `-w` foster reports each one
/// and its status; without it (foster's fast path) none may stay a zombie.
fn check_reaping_under_signals(place: As, warn: bool) {
    let dir = std::env::temp_dir().join(format!(
        "foster-orphanage-{}-{place:?}-{warn}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("make a directory");
    let script = orphanage(dir.to_str().expect("UTF-8"));
    let mut args = vec!["sh", "-c", &script];
    if warn {
        args.insert(0, "-w");
    }
    let mut command = common::foster(place, &args);
    // A file, not a pipe: a pipe nobody reads while foster writes a line
    // per orphan would fill up and stop foster.
    let log = dir.join("stderr");
    command.stderr(std::fs::File::create(&log).expect("create a log file"));
    let mut session = Session::start_with(command);
    for sent in 0..10_000 {
        session.signal(if sent % 2 == 0 { libc::SIGUSR1 } else { 40 });
        if sent % 20 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    std::fs::write(dir.join("stop"), "").expect("tell the command to stop");
    let report = session.line();
    let status = session.finish();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status, Some(3), "{place:?}: {stderr}");
    let made: usize = report
        .strip_prefix("made=")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected report {report:?}"));
    assert!(made > 0, "{report}");
    assert!(report.ends_with(" zombies=0"), "{place:?}: {report}");
    if warn {
        let statuses = stderr.matches("), exited 7\n").count();
        assert_eq!(statuses, made, "{place:?}: one status per orphan");
    }
}

#[test]
fn every_orphan_is_reaped_with_its_status_while_10000_signals_come() {
    for place in places() {
        check_reaping_under_signals(place, true);
    }
}

#[test]
fn the_fast_path_leaves_no_zombie_while_10000_signals_come() {
    for place in places() {
        check_reaping_under_signals(place, false);
    }
}

#[test]
fn not_pid_1_foster_becomes_a_subreaper_and_adopts() {
    let script = r#"p=$(sh -c 'sleep 30 >/dev/null 2>&1 & echo $!')
set -- $(cat /proc/$p/stat)
echo "$p $4 $PPID""#;
    let started = Instant::now();
    let output = run(As::Process, &["-v", "sh", "-c", script]);
    let stdout = text(&output.stdout);
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    let [orphan, its_parent, foster] = fields[..] else {
        panic!("unexpected output: {stdout}")
    };
    assert_eq!(its_parent, foster, "the orphan's parent should be foster");
    assert!(text(&output.stderr).contains("child subreaper"));
    // The orphan (sleep 30) got SIGTERM when the command exited, and was
    // reaped: it is gone, long before its 30 s.
    assert_eq!(output.status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(25));
    assert_eq!(foster::procfs::state(orphan.parse().expect("a PID")), None);
}

#[test]
fn a_parent_that_ignores_sigchld_does_not_blind_foster() {
    use std::os::unix::process::CommandExt;
    // An ignored SIGCHLD survives exec; with it the kernel would reap the
    // command itself and foster would wait for it forever.
    let mut command = common::command("timeout");
    command.args(["-s", "KILL", "20", &*FOSTER, "sh", "-c", "exit 3"]);
    // SAFETY: between fork and exec, only sigaction(2), which is
    // async-signal-safe; SIG_IGN installs no handler.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            Ok(())
        });
    }
    let status = command.status().expect("run foster");
    assert_eq!(status.code(), Some(3), "foster never saw its command exit");
}

/// Starts foster with `args` in the background of a shell that exits once
/// foster has started its command (foster arms `-p` with prctl(2) before
/// that, and prctl only arms the signal for a parent that dies later; ten
/// seconds at most), and returns foster's PID.
fn foster_whose_parent_exits(args: &str) -> i32 {
    let line = format!(
        r#"{} {args} >/dev/null 2>&1 & f=$!; i=0
until [ -n "$(cat /proc/$f/task/$f/children 2>/dev/null)" ] || [ $i -ge 1000 ]; do
  sleep 0.01; i=$((i+1))
done
echo $f"#,
        *FOSTER
    );
    let output = common::shell(&line);
    text(&output.stdout).trim().parse().expect("foster's PID")
}

/// Whether `pid` is still a live process (not gone, not a zombie), after
/// giving it up to two seconds to die.
fn still_alive_after_a_while(pid: i32) -> bool {
    for _ in 0..200 {
        match foster::procfs::state(pid) {
            None | Some('Z') => return false,
            Some(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    true
}

#[test]
fn dash_p_gives_foster_a_signal_when_its_parent_dies() {
    // Whatever happens to foster, its command ends on its own; the second
    // one outlasts the two seconds of looking, even on a busy machine.
    let with_p = foster_whose_parent_exits("-p SIGKILL --grace 0 sleep 3");
    assert!(
        !still_alive_after_a_while(with_p),
        "foster outlived its parent despite -p"
    );
    let without = foster_whose_parent_exits("--grace 0 sleep 10");
    let alive = still_alive_after_a_while(without);
    // SAFETY: kill(2) takes two integers and touches no memory.
    unsafe { libc::kill(without, libc::SIGKILL) };
    assert!(alive, "without -p, foster should outlive its parent");
}
