//! The verdict for each kind of container the book builds, from facts as
//! the doctor would see them.

use super::*;
use crate::inits::{mode, KnownInit, ShellRun};
use crate::verdict::{Disposition, SIGTERM};

fn process(pid: i32, comm: &str, line: &str) -> Process {
    Process {
        pid,
        host_pid: 1000 + pid,
        comm: comm.into(),
        args: line.split_whitespace().map(String::from).collect(),
    }
}

/// A container whose PID 1 is `comm`, with default SIGTERM and SIGCHLD,
/// no children and no zombies.
fn container(comm: &str, line: &str) -> Facts {
    Facts {
        engine: "docker".into(),
        pid1: process(1, comm, line),
        first: None,
        init: None,
        shell: None,
        children: Vec::new(),
        stop_signal: SIGTERM,
        stop_signal_named: false,
        stop_timeout: 10,
        stop_disposition: Disposition::Default,
        sigchld: Disposition::Default,
        zombies: Vec::new(),
        orphan_test: None,
    }
}

fn zombies_of(parent: i32, parent_comm: &str, pids: &[i32]) -> Vec<Zombie> {
    pids.iter()
        .map(|&pid| Zombie {
            pid,
            comm: "orphan".into(),
            parent,
            parent_comm: parent_comm.into(),
        })
        .collect()
}

fn with_init(init: KnownInit, line: &str) -> Facts {
    let mut facts = container(init.name(), line);
    let args = facts.pid1.args.clone();
    facts.init = Some((init, mode(init, &args)));
    facts.stop_disposition = Disposition::Blocked;
    facts.children = vec![process(7, "app", "app")];
    facts
}

#[test]
fn a_naive_init_with_zombies_has_both_problems() {
    let mut facts = container("naive-init", "naive-init app");
    facts.children = vec![process(7, "app", "app")];
    facts.zombies = zombies_of(1, "naive-init", &[9, 10, 11]);
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Both);
    assert_eq!(judgement.chapters, vec![8, 9]);
    assert!(judgement.zombies.because.starts_with("3 zombies of PID 1"));
    assert!(judgement.stop.because.contains("SIGKILL after 10 s"));
    assert!(judgement.summary.contains("`docker stop` will wait"));
    assert!(judgement.fix.contains("--init"));
}

#[test]
fn an_application_that_handles_sigterm_still_collects_zombies() {
    let mut facts = container("app", "app --orphans 3");
    facts.stop_disposition = Disposition::Blocked;
    facts.zombies = zombies_of(1, "app", &[8, 9, 10]);
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Zombies);
    assert_eq!(judgement.chapters, vec![8]);
    assert!(judgement.stop.because.contains("blocks SIGTERM"));
}

#[test]
fn no_zombie_yet_is_no_clean_bill_for_a_program_that_is_no_init() {
    let facts = container("sleep", "sleep 1000");
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Both);
    assert!(judgement.zombies.because.contains("--orphan-test"));
}

#[test]
fn the_orphan_test_decides_when_nothing_else_does() {
    let mut facts = container("worker", "worker");
    facts.stop_disposition = Disposition::Blocked;
    facts.orphan_test = Some(OrphanTest::Reaped { milliseconds: 3 });
    assert_eq!(judge(&facts).verdict, Verdict::Fine);
    facts.orphan_test = Some(OrphanTest::Stayed {
        pid: 12,
        milliseconds: 1000,
    });
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Zombies);
    assert!(judgement.zombies.because.contains("PID 12"));
    // Zombies seen now outweigh a test that went well.
    facts.orphan_test = Some(OrphanTest::Reaped { milliseconds: 3 });
    facts.zombies = zombies_of(1, "worker", &[5]);
    assert_eq!(judge(&facts).verdict, Verdict::Zombies);
}

#[test]
fn a_shell_that_runs_a_script_reaps_but_drops_sigterm() {
    let mut facts = container("sh", "/bin/sh /entrypoint.sh app");
    facts.shell = Some(ShellRun::Script("/entrypoint.sh".into()));
    facts.children = vec![process(7, "app", "app")];
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::StopWaits);
    assert_eq!(judgement.chapters, vec![9, 13]);
    assert!(judgement.zombies.because.contains("is a shell"));
    assert!(judgement.fix.contains("exec \"$@\""), "{}", judgement.fix);
}

#[test]
fn a_shell_with_a_trap_hears_sigterm_but_its_child_may_not() {
    let mut facts = container("sh", "/bin/sh -c trap");
    facts.shell = Some(ShellRun::Command("trap 'exit 143' TERM; app".into()));
    facts.children = vec![process(7, "app", "app")];
    facts.stop_disposition = Disposition::Caught;
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Fine);
    assert!(
        judgement.notes.iter().any(|n| n.contains("passes it on")),
        "{:?}",
        judgement.notes
    );
}

#[test]
fn the_inits_are_fine() {
    for (init, line) in [
        (KnownInit::Tini, "/sbin/docker-init -- app"),
        (KnownInit::Foster, "/bin/foster -- app"),
        (KnownInit::DumbInit, "dumb-init app"),
        (KnownInit::Catatonit, "/run/podman-init -- app"),
    ] {
        let judgement = judge(&with_init(init, line));
        assert_eq!(judgement.verdict, Verdict::Fine, "{line}");
        assert!(judgement.fix.is_empty() && judgement.chapters.is_empty());
        assert!(judgement.notes.is_empty(), "{:?}", judgement.notes);
    }
}

#[test]
fn an_init_told_to_swallow_the_stop_signal_is_not() {
    let judgement = judge(&with_init(KnownInit::DumbInit, "dumb-init -r 15:0 app"));
    assert_eq!(judgement.verdict, Verdict::StopWaits);
    assert!(judgement.fix.contains("-r 15:0"), "{}", judgement.fix);
}

#[test]
fn systemd_wants_sigrtmin_plus_3() {
    let mut facts = with_init(KnownInit::Systemd, "/sbin/init");
    facts.stop_disposition = Disposition::Caught;
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::StopWaits);
    assert!(judgement.fix.contains("SIGRTMIN+3"));
    facts.stop_signal = 37;
    facts.stop_signal_named = true;
    assert_eq!(judge(&facts).verdict, Verdict::Fine);
}

#[test]
fn in_a_pod_the_first_process_is_not_protected() {
    let mut facts = with_init(KnownInit::Catatonit, "/catatonit -P");
    facts.first = Some(process(5, "sleep", "sleep 1000"));
    facts.stop_disposition = Disposition::Default;
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Fine);
    assert!(judgement.stop.because.contains("not PID 1"));
    facts.stop_disposition = Disposition::Ignored;
    assert_eq!(judge(&facts).verdict, Verdict::StopWaits);
}

#[test]
fn ignoring_sigchld_reaps_and_sigkill_stops_at_once() {
    let mut facts = container("server", "server");
    facts.sigchld = Disposition::Ignored;
    facts.stop_signal = crate::verdict::SIGKILL;
    facts.stop_signal_named = true;
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Fine);
    assert!(judgement.stop.because.contains("at once"));
}

#[test]
fn zombies_of_another_parent_are_a_note_not_a_verdict() {
    let mut facts = with_init(KnownInit::Tini, "tini -- app");
    facts.zombies = zombies_of(7, "app", &[20, 21]);
    let judgement = judge(&facts);
    assert_eq!(judgement.verdict, Verdict::Fine);
    assert!(judgement.notes[0].starts_with("2 zombies of PID 7 (`app`)"));
}

#[test]
fn podman_says_podman_stop() {
    let mut facts = container("sleep", "sleep 1000");
    facts.engine = "podman".into();
    assert!(judge(&facts).summary.contains("`podman stop`"));
}
