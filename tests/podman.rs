//! foster under Podman, in the two ways a Podman user runs it: as
//! Podman's init (`podman run --init --init-path FOSTER`, which bind-mounts
//! the static foster as `/run/podman-init`) and as the image's entrypoint
//! (`--entrypoint /bin/foster`). Exit statuses, zombies and `podman stop`,
//! with `--network none` and the lower rlimits of `orphans::containers::podman`.
//!
//! Skipped (`skipped: …`) where Podman cannot run; failing instead when
//! `ORPHANS_REQUIRE_PODMAN=1`, as CI sets it.

mod common;

use std::time::Duration;

use orphans::containers::engine::Container;
use orphans::containers::podman::Ready;
use orphans::namespace::census;

/// How foster is put in front of a container's command.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// `--init --init-path FOSTER`.
    PodmansInit,
    /// `--entrypoint /bin/foster`, with `--` before the command.
    Entrypoint,
    /// No init at all: the control that shows what the checks can see.
    NoInit,
}

/// Creates and starts a container running `script` with busybox sh, with
/// foster in front of it as `form` says.
fn start<'r>(ready: &'r Ready, form: Form, script: &str) -> Container<'r> {
    let foster = ready.foster.to_string_lossy().into_owned();
    let (options, mut command): (Vec<String>, Vec<String>) = match form {
        Form::PodmansInit => (vec!["--init".into(), "--init-path".into(), foster], vec![]),
        Form::Entrypoint => (
            vec!["--entrypoint".into(), "/bin/foster".into()],
            vec!["--".into()],
        ),
        Form::NoInit => (vec![], vec![]),
    };
    command.extend(["/bin/sh".into(), "-c".into(), script.into()]);
    let container = ready
        .engine
        .create(&options, &ready.image, &command)
        .unwrap_or_else(|e| panic!("{form:?}: {e}"));
    container
        .start()
        .unwrap_or_else(|e| panic!("{form:?}: {e}"));
    container
}

/// The exit status of `script` run to its end under `form`.
fn status_of(ready: &Ready, form: Form, script: &str) -> i32 {
    let container = start(ready, form, script);
    container.wait().unwrap_or_else(|e| panic!("{form:?}: {e}"))
}

#[test]
fn foster_passes_on_exit_statuses_under_podman() {
    let Some(ready) = common::podman_or_skip() else {
        return;
    };
    for form in [Form::PodmansInit, Form::Entrypoint] {
        assert_eq!(status_of(&ready, form, "exit 3"), 3, "{form:?}");
        // The shell, foster's child, dies of SIGTERM: 128 + 15.
        assert_eq!(status_of(&ready, form, "kill -TERM $$"), 143, "{form:?}");
    }
}

#[test]
fn podmans_init_is_foster_when_init_path_says_so() {
    let Some(ready) = common::podman_or_skip() else {
        return;
    };
    let container = start(&ready, Form::PodmansInit, "exec sleep 30");
    let version = container
        .exec(&["/run/podman-init", "--version"])
        .expect("podman exec");
    assert!(version.starts_with("foster version"), "{version}");
    let processes = census::of_container(&container).expect("census");
    let pid1 = census::by_pid(&processes, 1).expect("a PID 1");
    assert_eq!(pid1.args, "/run/podman-init -- /bin/sh -c exec sleep 30");
}

/// Five orphans that exit at once, then `sleep`, which never reaps.
const ORPHANS: &str = "for i in 1 2 3 4 5; do (sleep 0.1 &); done; echo ready; exec sleep 30";

/// The zombies in the container once the orphans of [`ORPHANS`] are dead.
fn zombies_under(ready: &Ready, form: Form) -> usize {
    let container = start(ready, form, ORPHANS);
    container
        .wait_for_line("ready", Duration::from_secs(15))
        .expect("the workload starts");
    std::thread::sleep(Duration::from_secs(1));
    let processes = census::of_container(&container).expect("census");
    census::zombies(&processes).len()
}

#[test]
fn foster_reaps_the_orphans_under_podman() {
    let Some(ready) = common::podman_or_skip() else {
        return;
    };
    // Without an init, `sleep` is PID 1 and all five stay zombies: the
    // census does see them when nobody reaps.
    assert_eq!(zombies_under(&ready, Form::NoInit), 5);
    for form in [Form::PodmansInit, Form::Entrypoint] {
        assert_eq!(zombies_under(&ready, form), 0, "{form:?}");
    }
}

/// A helper in a session of its own that says when SIGTERM reaches it,
/// then `sleep`, which dies of SIGTERM once foster forwards it.
const STOPPED: &str = "setsid sh -c 'trap \"echo helper: SIGTERM; exit 0\" TERM; \
echo helper: ready; while :; do sleep 0.05; done' & exec sleep 30";

#[test]
fn podman_stop_reaches_the_command_and_the_helper_through_foster() {
    let Some(ready) = common::podman_or_skip() else {
        return;
    };
    for form in [Form::PodmansInit, Form::Entrypoint] {
        let container = start(&ready, form, STOPPED);
        container
            .wait_for_line("helper: ready", Duration::from_secs(15))
            .expect("the helper starts");
        // Were SIGTERM not forwarded, `sleep` would live until the
        // SIGKILL after 10 s, and the status would be 137.
        container.stop(10).expect("podman stop");
        assert_eq!(container.exit_code().ok(), Some(143), "{form:?}");
        // foster's grace shutdown sends SIGTERM to what is left.
        let log = container.logs().expect("podman logs");
        assert!(
            log.lines().any(|l| l == "helper: SIGTERM"),
            "{form:?}: {log}"
        );
    }
}
