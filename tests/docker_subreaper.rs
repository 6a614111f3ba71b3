//! Docker's side of the subreaper: the container's PID 1 is a child of
//! `containerd-shim`, which adopted it when runc, its creator, exited; so
//! is a command of `docker exec`, whose `runc exec` exits at once.

mod common;

use std::time::Duration;

use common::skip_without_docker;
use orphans::containers::engine::{Container, Engine};
use orphans::containers::image::ensure_image;
use orphans::process::deadline::poll_until;
use orphans::process::procfs::{comm, parent_of, pids};

/// A container of the project's image that sleeps for 30 s, started.
fn sleeping(docker: &Engine) -> Container<'_> {
    let image =
        ensure_image(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("build the image");
    let sleep = ["/bin/busybox", "sleep", "30"].map(String::from);
    let container = docker
        .create(&[], &image.reference, &sleep)
        .expect("docker create");
    container.start().expect("docker start");
    container
}

#[test]
fn the_shim_adopts_the_containers_pid_1() {
    if skip_without_docker() {
        return;
    }
    let docker = Engine::docker();
    let container = sleeping(&docker);
    let pid1 = container.host_pid().expect("docker inspect");
    assert!(pid1 > 1, "a host PID: {pid1}");
    assert_eq!(comm(pid1).as_deref(), Some("busybox"));
    let parent = parent_of(pid1).expect("PID 1 is alive");
    let name = comm(parent).unwrap_or_default();
    assert!(
        name.starts_with("containerd-shim"),
        "parent {parent} is '{name}'"
    );
    assert_ne!(parent, 1, "not the host's init");
    // Walking further up never meets runc: it has exited.
    let mut ancestor = parent;
    while ancestor > 1 {
        assert_ne!(comm(ancestor).as_deref(), Some("runc"));
        ancestor = parent_of(ancestor).unwrap_or(0);
    }
}

/// The host PID of a process whose command line is `words`, looked for
/// during up to two seconds.
fn process_running(words: &[&str]) -> Option<i32> {
    let runs = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|line| {
            line.split(|&byte| byte == 0)
                .filter(|word| !word.is_empty())
                .eq(words.iter().map(|word| word.as_bytes()))
        })
    };
    poll_until(Duration::from_secs(2), Duration::from_millis(10), || {
        pids().into_iter().find(|&pid| runs(pid))
    })
}

#[test]
fn the_shim_adopts_a_command_of_docker_exec() {
    if skip_without_docker() {
        return;
    }
    let docker = Engine::docker();
    let container = sleeping(&docker);
    let shim = parent_of(container.host_pid().expect("docker inspect")).expect("PID 1 is alive");
    let command = ["/bin/busybox", "sleep", "27"];
    container.exec_detached(&command).expect("docker exec");
    let pid = process_running(&command).expect("the command of docker exec runs");
    assert_eq!(
        parent_of(pid),
        Some(shim),
        "adopted by the container's shim"
    );
}
