//! foster as the wrapper of `docker exec` (and of a `HEALTHCHECK`, which
//! Docker runs the same way): a process that `docker exec` starts has no
//! parent in the container, so whatever it leaves behind goes to the
//! container's PID 1, and a PID 1 that never reaps (here `sleep`) keeps
//! every one as a zombie (moby/moby#47583). `docker exec C foster -- CMD`
//! makes foster, a child subreaper there, the one that collects them.

mod common;

use std::process::Output;

use common::run;

/// How many exec'd commands, each leaving one orphan.
const EXECS: usize = 100;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The book's image, built if needed; `None` (after `skipped: …`) without
/// a Docker engine that can run it.
fn project_image() -> Option<String> {
    if common::skip_without_docker() {
        return None;
    }
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let image = orphans::containers::image::ensure_image(project).expect("build the orphans image");
    Some(image.reference)
}

/// A container whose PID 1 is `sleep`, which reaps nobody; removed when
/// dropped.
struct SleepingContainer(String);

impl SleepingContainer {
    fn start(image: &str, role: &str) -> SleepingContainer {
        let prefix = std::env::var("ORPHANS_IMAGE_NAME").unwrap_or_else(|_| "orphans".into());
        let name = format!("{prefix}-exec-{role}-{}", std::process::id());
        let started = run(
            "docker",
            &[
                "run",
                "-d",
                "--name",
                &name,
                "--network",
                "none",
                "--entrypoint",
                "/bin/busybox",
                image,
                "sleep",
                "600",
            ],
        );
        let container = SleepingContainer(name);
        assert!(
            started.status.success(),
            "docker run: {}",
            text(&started.stderr)
        );
        container
    }

    fn exec(&self, command: &[&str]) -> Output {
        let mut args = vec!["exec", &self.0];
        args.extend(command);
        run("docker", &args)
    }

    /// (zombies, orphans still running) among PID 1's children, from
    /// `/proc/PID/stat` (proc(5)): the state, then the parent's PID.
    fn census(&self) -> (usize, usize) {
        let script = "cat /proc/[0-9]*/stat 2>/dev/null | \
                      sed 's/.*) //' | awk '$2 == 1 { print $1 }'";
        let output = self.exec(&["/bin/sh", "-c", script]);
        let states = text(&output.stdout);
        let zombies = states.lines().filter(|s| *s == "Z").count();
        (zombies, states.lines().count() - zombies)
    }

    /// `census` once no orphan is running any more (10 s at most: each
    /// sleeps 0.1 s).
    fn census_when_settled(&self) -> (usize, usize) {
        let mut census = self.census();
        for _ in 0..100 {
            if census.1 == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            census = self.census();
        }
        census
    }
}

impl Drop for SleepingContainer {
    fn drop(&mut self) {
        let _ = run("docker", &["rm", "-f", &self.0]);
    }
}

/// [`EXECS`] times `docker exec C WRAPPER... sh -c 'sleep 0.1 & exit 0'`,
/// then the zombies PID 1 has.
fn zombies_after_execs(image: &str, role: &str, wrapper: &[&str]) -> usize {
    let container = SleepingContainer::start(image, role);
    for _ in 0..EXECS {
        let mut command = wrapper.to_vec();
        command.extend(["/bin/sh", "-c", "sleep 0.1 & exit 0"]);
        let output = container.exec(&command);
        assert!(output.status.success(), "{role}: {}", text(&output.stderr));
    }
    let (zombies, running) = container.census_when_settled();
    assert_eq!(running, 0, "{role}: orphans still running");
    zombies
}

#[test]
fn exec_through_foster_leaves_no_zombie_to_a_pid_1_that_never_reaps() {
    let Some(image) = project_image() else { return };
    let plain = zombies_after_execs(&image, "plain", &[]);
    let fostered = zombies_after_execs(&image, "foster", &["/bin/foster", "--"]);
    assert_eq!((plain, fostered), (EXECS, 0));
}
