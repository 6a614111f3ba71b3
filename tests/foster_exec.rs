//! foster as the wrapper of `docker exec` (and of a `HEALTHCHECK`, which
//! Docker runs the same way): a process that `docker exec` starts has no
//! parent in the container, so whatever it leaves behind goes to the
//! container's PID 1, and a PID 1 that never reaps (here `sleep`) keeps
//! every one as a zombie (moby/moby#47583). `docker exec C foster -- CMD`
//! makes foster, a child subreaper there, the one that collects them.

mod common;

use std::time::Duration;

use orphans::containers::engine::{Container, Engine};
use orphans::process::deadline::poll_until;

/// How many exec'd commands, each leaving one orphan.
const EXECS: usize = 100;

/// A container whose PID 1 is `sleep`, which reaps nobody, started; the
/// [`Container`] removes it when dropped.
fn sleeping_container<'e>(docker: &'e Engine, image: &str) -> Container<'e> {
    let options = ["--entrypoint".to_string(), "/bin/busybox".into()];
    let command = ["sleep".to_string(), "600".into()];
    let container = docker
        .create(&options, image, &command)
        .expect("docker create");
    container.start().expect("docker start");
    container
}

/// (zombies, orphans still running) among PID 1's children, from
/// `/proc/PID/stat` (proc(5)): the state, then the parent's PID.
fn census(container: &Container) -> (usize, usize) {
    let script = "cat /proc/[0-9]*/stat 2>/dev/null | \
                  sed 's/.*) //' | awk '$2 == 1 { print $1 }'";
    let states = container
        .exec(&["/bin/sh", "-c", script])
        .expect("docker exec");
    let zombies = states.lines().filter(|s| *s == "Z").count();
    (zombies, states.lines().count() - zombies)
}

/// [`census`] once no orphan is running any more (10 s at most: each
/// sleeps 0.1 s).
fn census_when_settled(container: &Container) -> (usize, usize) {
    let settled = poll_until(Duration::from_secs(10), Duration::from_millis(100), || {
        Some(census(container)).filter(|(_, running)| *running == 0)
    });
    settled.unwrap_or_else(|| census(container))
}

/// [`EXECS`] times `docker exec C WRAPPER... sh -c 'sleep 0.1 & exit 0'`,
/// then the zombies PID 1 has.
fn zombies_after_execs(image: &str, role: &str, wrapper: &[&str]) -> usize {
    let docker = Engine::docker();
    let container = sleeping_container(&docker, image);
    for _ in 0..EXECS {
        let mut command = wrapper.to_vec();
        command.extend(["/bin/sh", "-c", "sleep 0.1 & exit 0"]);
        if let Err(e) = container.exec(&command) {
            panic!("{role}: {e}");
        }
    }
    let (zombies, running) = census_when_settled(&container);
    assert_eq!(running, 0, "{role}: orphans still running");
    zombies
}

#[test]
fn exec_through_foster_leaves_no_zombie_to_a_pid_1_that_never_reaps() {
    let Some(image) = common::project_image_or_skip() else {
        return;
    };
    let plain = zombies_after_execs(&image, "plain", &[]);
    let fostered = zombies_after_execs(&image, "foster", &["/bin/foster", "--"]);
    assert_eq!((plain, fostered), (EXECS, 0));
}
