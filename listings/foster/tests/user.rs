//! `-u USER[:GROUP]`: the command runs as that user, in its groups, with
//! its HOME, while foster keeps its own user to signal and reap; a name
//! that is not there, a malformed one or no permission to change: one
//! line and status 2 or 126. As PID 1 and not.

mod common;

use std::os::unix::process::CommandExt;

use common::{foster, places, run, skip_unless, text, As};

/// Changing user needs root: `true` (after `skipped: …`) when the test
/// is not root; with `ORPHANS_REQUIRE_ROOT=1` it fails instead.
fn skip_unless_root() -> bool {
    // SAFETY: geteuid(2) has no arguments and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    skip_unless(
        "ORPHANS_REQUIRE_ROOT",
        (!root).then(|| "not root: changing the command's user needs root".into()),
    )
}

/// What `id` says in the command, and its HOME, one per line: user, group,
/// groups, HOME; then foster's own user (`Uid:` in its status file).
const WHO: &str = "id -u; id -g; id -G; echo \"$HOME\"; grep '^Uid:' /proc/$PPID/status | cut -f2";

#[test]
fn numbers_not_in_passwd_run_in_the_group_given_or_0_with_home_slash() {
    if skip_unless_root() {
        return;
    }
    for place in places() {
        let output = run(place, &["-u", "4242:4343", "sh", "-c", WHO]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let lines: Vec<String> = text(&output.stdout).lines().map(String::from).collect();
        assert_eq!(lines, ["4242", "4343", "4343", "/", "0"], "{place:?}");
        let output = run(place, &["--user", "4242", "sh", "-c", WHO]);
        let lines: Vec<String> = text(&output.stdout).lines().map(String::from).collect();
        assert_eq!(lines, ["4242", "0", "0", "/", "0"], "{place:?}");
    }
}

/// A name of this machine's /etc/passwd other than root's: its IDs and
/// home as that file gives them.
fn some_user() -> Option<(String, u32, u32, String)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        let [name, _, uid, gid, _, home, ..] = fields[..] else {
            return None;
        };
        let (uid, gid): (u32, u32) = (uid.parse().ok()?, gid.parse().ok()?);
        (uid != 0 && !home.is_empty()).then(|| (name.into(), uid, gid, home.into()))
    })
}

#[test]
fn a_name_runs_with_its_ids_and_home_and_foster_stays_root() {
    if skip_unless_root() {
        return;
    }
    let Some((name, uid, gid, home)) = some_user() else {
        panic!("no user but root in /etc/passwd");
    };
    for place in places() {
        let output = run(place, &["-u", &name, "sh", "-c", WHO]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[..2], [uid.to_string(), gid.to_string()], "{place:?}");
        assert!(
            lines[2].split(' ').any(|g| g == gid.to_string()),
            "{stdout}"
        );
        assert_eq!(lines[3], home, "{place:?}");
        assert_eq!(lines[4], "0", "{place:?}: foster's own user");
    }
}

/// The command, as another user, leaves a process that ignores SIGTERM:
/// foster, still root, reaps it, and kills it after the grace time.
#[test]
fn foster_still_stops_and_reaps_the_users_processes() {
    if skip_unless_root() {
        return;
    }
    for place in places() {
        // Once the leftover ignores SIGTERM (bit 15 of SigIgn, proc(5)).
        let script = "sh -c 'trap \"\" TERM; exec sleep 30' >/dev/null 2>&1 &
            until [ $(( 0x$(grep SigIgn /proc/$!/status | cut -f2) & 0x4000 )) != 0 ]; do sleep 0.01; done
            exit 5";
        let started = std::time::Instant::now();
        let output = run(
            place,
            &["-v", "--grace", "500ms", "-u", "4242", "sh", "-c", script],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "{stderr}");
        assert!(stderr.contains("sent SIGKILL"), "{place:?}: {stderr}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{stderr}"
        );
    }
}

#[test]
fn a_name_that_is_not_there_is_one_line_and_126() {
    let output = run(As::Process, &["-u", "no-such-user-here", "true"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(126), "{stderr}");
    assert_eq!(
        stderr,
        "foster: cannot run 'true' as no-such-user-here: no user 'no-such-user-here' in /etc/passwd\n"
    );
    let output = run(As::Process, &["-u", "0:no-such-group-here", "true"]);
    assert_eq!(output.status.code(), Some(126));
    assert_eq!(text(&output.stderr).lines().count(), 1);
}

#[test]
fn a_malformed_user_is_a_usage_error() {
    for bad in ["", "a:b:c", ":0", "0:", "4294967295"] {
        let output = run(As::Process, &["-u", bad, "true"]);
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with("foster: -u takes USER[:GROUP]"),
            "{stderr}"
        );
    }
}

/// foster as another user than root (the test drops to 4242 first, when
/// it is root) may not change to root: one line, 126, and the command
/// never runs.
#[test]
fn without_the_privilege_it_is_one_line_and_126() {
    let mut command = foster(As::Process, &["-u", "0", "sh", "-c", "echo ran"]);
    // SAFETY: between fork and exec, only getuid, setgroups, setgid and
    // setuid, which are async-signal-safe; no memory is read.
    unsafe {
        command.pre_exec(|| {
            if libc::getuid() == 0 {
                libc::setgroups(0, std::ptr::null());
                libc::setgid(4242);
                libc::setuid(4242);
            }
            Ok(())
        });
    }
    let output = command.output().expect("run foster");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(126), "{stderr}");
    assert!(!text(&output.stdout).contains("ran"));
    assert!(
        stderr.starts_with("foster: cannot run 'sh' as uid 0, gid 0: ")
            && stderr.ends_with("; changing user needs root\n"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
