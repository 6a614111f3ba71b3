//! Podman, for chapter 15 and `tests/podman.rs`: whether it answers, the
//! project's image in Podman's storage, the options every Podman container
//! of the book gets, and pods whose containers share one PID namespace.
//!
//! The image is built once, by Docker (`orphans::containers::image`), and
//! copied into Podman as it is (`docker save | podman load`): both engines
//! then run the very same image, with the same ID, and there is one recipe
//! for it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use orphans::containers::engine::{unique_name, Engine, Kind};
use orphans::containers::image::Image;
use orphans::missing::{one_line, Missing};

// ANCHOR: rlimits
/// Podman gives a container rlimits of its own choosing (1,048,576 open
/// files and as many processes), and raising a hard limit above the
/// caller's needs CAP_SYS_RESOURCE (setrlimit(2)). Where the engine runs
/// without that capability, in some sandboxes and CI machines, runc fails
/// with "error setting rlimits"; limits this low are allowed everywhere.
pub const RLIMITS: [&str; 4] = [
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
];

/// The same limits for the containers Podman makes itself, such as a pod's
/// infra container, which take no `--ulimit`: a containers.conf(5) that
/// `podman pod create` reads through `CONTAINERS_CONF`.
const CONTAINERS_CONF: &str = "[containers]\n\
    default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n";
// ANCHOR_END: rlimits

/// Podman, with `--network none` and [`RLIMITS`] for every container.
pub fn engine() -> Engine {
    let mut create_options: Vec<String> = vec!["--network".into(), "none".into()];
    create_options.extend(RLIMITS.iter().map(|s| s.to_string()));
    Engine {
        kind: Kind::Podman,
        create_options,
        environment: Vec::new(),
    }
}

/// How long `podman info` may take: its first run on a machine sets up
/// Podman's storage.
const INFO_PATIENCE: Duration = Duration::from_secs(60);

/// Podman is there and answers `podman info` (its storage and OCI runtime
/// are usable). Whether it can run a container here is for [`ready`].
pub fn answers() -> Result<(), Missing> {
    let missing = |why: String| {
        Missing::new(
            "Podman",
            why,
            "apt-get install podman, and run as root (rootless Podman also needs uidmap and /etc/subuid entries)",
        )
    };
    let info = ["info", "--format", "{{.Host.OCIRuntime.Name}}"];
    match engine().run_within(&info, INFO_PATIENCE) {
        Ok(_) => Ok(()),
        Err(error) => Err(missing(format!("`podman info` failed: {error}"))),
    }
}

/// What the Podman experiments need, once [`ready`] has checked it.
pub struct Ready {
    pub engine: Engine,
    /// The project's image, by its ID (the same in Docker and Podman).
    pub image: String,
    /// The static foster the image holds as `/bin/foster`, on the host:
    /// what `--init-path` takes (Podman bind-mounts it into containers).
    pub foster: PathBuf,
}

// ANCHOR: ready
/// Checks that Podman runs here, puts the project's `image` (built with
/// Docker) into its storage, and runs one container of it: `Err` is the
/// one line a page shows (or a test's reason to skip).
pub fn ready(image: &Image) -> Result<Ready, Missing> {
    answers()?;
    let id = copy_from_docker(&image.reference).map_err(|why| {
        Missing::new(
            "the project's image in Podman",
            why,
            "try `docker save IMAGE | podman load` by hand",
        )
    })?;
    let engine = engine();
    engine
        .run_container("trial", &[id.as_str(), "true"], INFO_PATIENCE)
        .map_err(|why| {
            Missing::new(
                "Podman",
                format!("it cannot run a container here ({why})"),
                "see `podman info`; in a sandbox, run Podman as root",
            )
        })?;
    Ok(Ready {
        engine,
        image: id,
        foster: image.binaries_dir.join("foster"),
    })
}
// ANCHOR_END: ready

// ANCHOR: copy
/// Makes Docker's image `reference` available to Podman and returns its ID.
/// Copies it (`docker save REFERENCE | podman load`) only if Podman does
/// not have that ID yet, and then removes the image Podman had under the
/// same name, as `orphans::containers::image` does in Docker.
pub fn copy_from_docker(reference: &str) -> Result<String, String> {
    let docker = Engine::docker();
    let docker_id = docker
        .image_id(reference)
        .ok_or_else(|| format!("Docker has no image {reference}"))?;
    let id = docker_id.trim_start_matches("sha256:").to_string();
    let podman = engine();
    if podman.run(&["image", "exists", &id]).is_ok() {
        return Ok(id);
    }
    let previous = podman.image_id(reference);
    eprintln!("orphans-podman: copying image {reference} from Docker to Podman");
    let mut save = docker
        .command(&["save", reference])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run docker save: {e}"))?;
    let archive = save.stdout.take().ok_or("no pipe from docker save")?;
    let load = podman
        .command(&["load"])
        .stdin(archive)
        .output()
        .map_err(|e| format!("cannot run podman load: {e}"));
    let saved = save
        .wait()
        .map_err(|e| format!("waiting for docker save: {e}"))?;
    let load = load?;
    if !saved.success() || !load.status.success() {
        return Err(one_line(&format!(
            "docker save | podman load failed ({saved}, {}): {}",
            load.status,
            String::from_utf8_lossy(&load.stderr)
        )));
    }
    if podman.run(&["image", "exists", &id]).is_err() {
        return Err(format!(
            "podman load did not make image {id} of {reference}"
        ));
    }
    if let Some(old) = previous.filter(|old| *old != id) {
        // Fails harmlessly while a container still uses the old image.
        let _ = podman.run(&["image", "rm", &old]);
    }
    Ok(id)
}
// ANCHOR_END: copy

// ANCHOR: pod
/// A Podman pod whose containers share one PID namespace (`--share +pid`
/// adds it to the namespaces a pod shares by default). Its first process
/// is the infra container's, catatonit in pause mode unless
/// containers.conf names another infra image. Dropping the pod
/// removes it and its containers.
pub struct Pod {
    engine: Engine,
    pub name: String,
}

impl Pod {
    /// Creates a pod named by `unique_name`.
    pub fn create() -> Result<Pod, String> {
        let name = unique_name("pod");
        let conf = containers_conf()?;
        let mut engine = engine();
        engine.environment.push(("CONTAINERS_CONF".into(), conf));
        engine.run(&[
            "pod",
            "create",
            "--name",
            &name,
            "--share",
            "+pid",
            "--network",
            "none",
        ])?;
        Ok(Pod { engine, name })
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        let _ = self.engine.run(&["pod", "rm", "-f", &self.name]);
    }
}
// ANCHOR_END: pod

/// Writes [`CONTAINERS_CONF`] to a file of its own in the temporary
/// directory (unless it is there already) and returns its path.
fn containers_conf() -> Result<OsString, String> {
    let path = std::env::temp_dir().join("orphans-podman-containers.conf");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(CONTAINERS_CONF) {
        orphans::workspace::write_atomically(&path, CONTAINERS_CONF)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(path.into_os_string())
}
