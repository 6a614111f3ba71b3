//! What this machine can run: one check per component that an experiment or
//! a test needs, shared by the book and the tests.
//!
//! Each check answers `Ok(())` or a [`Missing`] that says, in words for a
//! reader, what is missing, why, and the command that would install or
//! allow it. A chapter prints [`Missing::line`] (one line, starting with
//! [`NOT_RUN`]) instead of a table it could not make; a test prints
//! `skipped: …` (see `tests/common`), or fails where `ORPHANS_REQUIRE_*`
//! asks for the component. [`Component`] names the components a chapter's
//! line can ask for; [`image_or_missing`] and its neighbours combine
//! checks into what an experiment needs.
//!
//! Contract for every check: it never panics, never prints, and finishes in
//! bounded time.

mod component;
mod needs;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use orphans::cache::{file_stamp, Record};
use orphans::containers::{docker, image, podman};
use orphans::missing::one_line;
use orphans::process::spawn::is_executable;

pub use component::{Component, COMPONENTS};
pub use needs::{built_image, image_or_missing, podman_ready, DockerRows};
// The checks answer in the words of `orphans::missing`.
pub use orphans::missing::{Missing, NOT_RUN};
pub use orphans::process::spawn::on_path;
pub use orphans::toolchain::musl_target;

/// A program that must be on this machine at `path` (a peer init of chapter
/// 12, busybox, chromedriver), and the package that brings it.
pub fn program(path: &str, package: &str) -> Result<(), Missing> {
    if is_executable(Path::new(path)) {
        Ok(())
    } else {
        Err(Missing::new(
            &format!("`{path}`"),
            "it is not installed",
            &format!("apt-get install {package}"),
        ))
    }
}

// The checks, one per component. Each says what the component buys in its
// remedy or its documentation, so that a line on a page is enough to act.

/// PID namespaces: the book's `container` (next to the running program)
/// can start `true` as PID 1 of a new namespace, as root or through a user
/// namespace.
pub fn namespaces() -> Result<(), Missing> {
    namespaces_with(&orphans::process::spawn::sibling("container"))
}

/// [`namespaces`], asking the `container` program at `container`.
pub fn namespaces_with(container: &Path) -> Result<(), Missing> {
    let remedy = "run as root, or allow unprivileged user namespaces \
                  (sysctl kernel.unprivileged_userns_clone=1 on Debian and Ubuntu)";
    let output = Command::new(container)
        .arg("true")
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(Missing::new(
            "PID namespaces",
            namespace_failure(&String::from_utf8_lossy(&output.stderr)),
            remedy,
        )),
        Err(e) => Err(Missing::new(
            "PID namespaces",
            format!(
                "the book's `container` could not start ({e}); build it with `cargo build --bins`"
            ),
            remedy,
        )),
    }
}

/// The reason in what `container` printed: "cannot create a PID namespace
/// (EPERM: …)" without the advice that follows it, which the remedy gives.
fn namespace_failure(stderr: &str) -> String {
    let line = one_line(stderr);
    let line = line.strip_prefix("container: ").unwrap_or(&line);
    match line.find("): ") {
        Some(end) => format!("this machine refused: {}", &line[..=end]),
        None => format!("this machine refused: {line}"),
    }
}

/// How long the answer of [`docker`] is remembered: the length of a book's
/// build, so that every experiment and test of one build gets the same
/// answer from one `docker run`, and a reader who fixes the engine sees it
/// used in the next build.
pub const DOCKER_ANSWER_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// A Docker engine that can really run a container: `docker info` answers
/// and a `docker run --network none` of a one-file image succeeds (see
/// `orphans::containers::docker::can_run_containers`).
///
/// The answer is remembered for this process, and in the cache directory
/// for [`DOCKER_ANSWER_LIFETIME`], keyed by what would change it: the
/// `docker` program found on `$PATH` (another client, a stand-in),
/// `DOCKER_HOST` and `DOCKER_CONTEXT` (another engine), and the engine's ID
/// and version (another engine behind the same socket, or an upgrade).
pub fn docker() -> Result<(), Missing> {
    static ANSWER: OnceLock<Result<(), Missing>> = OnceLock::new();
    ANSWER.get_or_init(docker_unremembered_or_recalled).clone()
}

fn docker_unremembered_or_recalled() -> Result<(), Missing> {
    let engine = docker::engine_info().map_err(no_docker)?;
    let cannot_run = |why: String| {
        Missing::new(
            "a Docker engine that can run containers",
            why,
            "fix the engine until `docker run --rm --network none IMAGE` works (its log tells why it cannot)",
        )
    };
    // One record per setup, so that two used in turn (a stand-in `docker`
    // and the real one) do not keep replacing each other's answer.
    let key = docker_key(&engine);
    let record = Record::new("docker-check", key.as_bytes(), &key);
    if let Some((answer, _)) = record.recall(Some(DOCKER_ANSWER_LIFETIME)) {
        return match answer.strip_prefix("no: ") {
            None => Ok(()),
            Some(why) => Err(cannot_run(why.to_string())),
        };
    }
    let work = orphans::workspace::cache_dir().join("check-image");
    let answer = docker::can_run_containers(&work);
    record.store(
        match &answer {
            Ok(()) => "yes".to_string(),
            Err(why) => format!("no: {}", one_line(why)),
        }
        .as_str(),
    );
    answer.map_err(cannot_run)
}

/// No Docker engine answers, for the reason `why`.
pub fn no_docker(why: String) -> Missing {
    Missing::new(
        "a Docker engine",
        why,
        "install Docker and start it (apt-get install docker.io), for a user who may use it",
    )
}

/// What the Docker check's answer depends on, as one string.
fn docker_key(engine: &docker::EngineInfo) -> String {
    let client = on_path("docker");
    let client_stamp = client.as_deref().map(file_stamp).unwrap_or_default();
    let variable = |name: &str| std::env::var(name).unwrap_or_default();
    format!(
        "client={} {client_stamp} host={} context={} engine={} {}",
        client.map(|p| p.display().to_string()).unwrap_or_default(),
        variable("DOCKER_HOST"),
        variable("DOCKER_CONTEXT"),
        engine.id,
        engine.version
    )
}

/// Debian's static busybox (or `ORPHANS_BUSYBOX`), the shell and tools of
/// the project's image (see `orphans::containers::image::busybox`).
pub fn busybox() -> Result<(), Missing> {
    image::busybox().map(drop)
}

/// What the project's image needs, all of it: an engine that runs
/// containers and a static busybox. Empty when both are there.
pub fn project_image() -> Vec<Missing> {
    [docker(), busybox()]
        .into_iter()
        .filter_map(Result::err)
        .collect()
}

/// One of the peer inits chapter 12 measures foster against, by path
/// (`/usr/bin/tini-static`) and Debian package (`tini`).
pub fn peer_init(path: &str, package: &str) -> Result<(), Missing> {
    program(path, package)
}

/// Chapter 12's peers, as (name, path, Debian package).
pub const PEER_INITS: [(&str, &str, &str); 4] = [
    ("tini-static", "/usr/bin/tini-static", "tini"),
    ("tini", "/usr/bin/tini", "tini"),
    ("dumb-init", "/usr/bin/dumb-init", "dumb-init"),
    ("catatonit", "/usr/bin/catatonit", "catatonit"),
];

/// The programs chapter 17 runs as PID 1 (its `runtime-table` checks that
/// this list names every one of them), by the name it finds on `PATH`.
pub const RUNTIME_PROGRAMS: [&str; 10] = [
    "python3", "node", "java", "javac", "perl", "bash", "dash", "busybox", "npm", "sh",
];

/// Every peer init of chapter 12 that is not installed.
pub fn peer_inits() -> Vec<Missing> {
    PEER_INITS
        .iter()
        .filter_map(|(_, path, package)| peer_init(path, package).err())
        .collect()
}

/// Debian's Chromium and its chromedriver, which `tests/browser.rs` drives.
#[derive(Clone, Debug)]
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Chromium and chromedriver, or which of them is missing.
pub fn browser() -> Result<Browser, Missing> {
    // Debian's /usr/bin/chromium is a shell wrapper; the browser itself is
    // under /usr/lib/chromium.
    let chromium = Some(PathBuf::from("/usr/lib/chromium/chromium"))
        .filter(|path| is_executable(path))
        .or_else(|| on_path("chromium"));
    let Some(chromium) = chromium else {
        return Err(Missing::new(
            "Chromium",
            "no chromium is installed",
            "apt-get install chromium",
        ));
    };
    let Some(chromedriver) = on_path("chromedriver") else {
        return Err(Missing::new(
            "chromedriver",
            "no chromedriver is on $PATH",
            "apt-get install chromium-driver",
        ));
    };
    Ok(Browser {
        chromium,
        chromedriver,
    })
}

/// Podman: the command is there and answers `podman info` (see
/// `orphans::containers::podman::answers`). Whether it can run a container
/// here is for [`podman_ready`], which needs the project's image first.
pub fn podman() -> Result<(), Missing> {
    podman::answers()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_is_not_there_is_missing() {
        assert!(program("/no/such/program", "nothing").is_err());
        assert!(program("/bin/sh", "dash").is_ok());
    }

    #[test]
    fn the_reason_of_container_loses_its_advice() {
        let stderr = "container: cannot create a PID namespace (EPERM: Operation not permitted): \
                      that needs root (CAP_SYS_ADMIN), or more\n";
        assert_eq!(
            namespace_failure(stderr),
            "this machine refused: cannot create a PID namespace (EPERM: Operation not permitted)"
        );
    }
}
