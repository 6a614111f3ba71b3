//! Docker's side of the subreaper: the container's PID 1 is a child of
//! `containerd-shim`, which adopted it when runc, its creator, exited.

mod common;

use common::skip_without_docker;
use orphans::containers::engine::Engine;
use orphans::containers::image::ensure_image;
use orphans::process::procfs::{comm, parent_of};

#[test]
fn the_shim_adopts_the_containers_pid_1() {
    if skip_without_docker() {
        return;
    }
    let image =
        ensure_image(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("build the image");
    let docker = Engine::docker();
    let sleep = ["/bin/busybox", "sleep", "30"].map(String::from);
    let container = docker
        .create(&[], &image.reference, &sleep)
        .expect("docker create");
    container.start().expect("docker start");
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
