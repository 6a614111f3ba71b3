//! Podman, for chapter 15 and `tests/podman.rs`: the project's image in
//! Podman's storage, the options every Podman container of the book gets,
//! and pods whose containers share one PID namespace.
//!
//! The image is built once, by Docker (`orphans::image`), and copied into
//! Podman as it is (`docker save | podman load`): both engines then run the
//! very same image, with the same ID, and there is one recipe for it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use orphans::capability::{self, one_line, Missing};
use orphans::engine::Engine;
use orphans::image::{image_for_docker_rows, Availability};

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
        program: "podman",
        create_options,
        environment: Vec::new(),
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
/// Checks that Podman runs here, puts the project's image into its
/// storage, and runs one container of it: `Err` is the one line a page
/// shows (or a test's reason to skip).
pub fn ready() -> Result<Ready, Missing> {
    capability::podman()?;
    let image = match image_for_docker_rows() {
        Ok(Availability::Ready(image)) => image,
        Ok(Availability::Unavailable(missing)) => return Err(Missing::combined(&missing)),
        Err(why) => {
            return Err(Missing::new(
                "the project's image, which the book builds with Docker",
                why,
                "install Docker and start its daemon (apt-get install docker.io)",
            ))
        }
    };
    let id = copy_from_docker(&image.reference).map_err(|why| {
        Missing::new(
            "the project's image in Podman",
            why,
            "try `docker save IMAGE | podman load` by hand",
        )
    })?;
    let engine = engine();
    let mut trial = vec!["run", "--rm"];
    trial.extend(engine.create_options.iter().map(String::as_str));
    trial.extend([id.as_str(), "true"]);
    engine.run(&trial).map_err(|why| {
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
/// same name, as `orphans::image` does in Docker.
pub fn copy_from_docker(reference: &str) -> Result<String, String> {
    let docker_id =
        orphans::docker::docker_text(&["image", "inspect", "--format", "{{.Id}}", reference])?;
    let id = docker_id.trim_start_matches("sha256:").to_string();
    let podman = engine();
    if podman.run(&["image", "exists", &id]).is_ok() {
        return Ok(id);
    }
    let previous = podman
        .run(&["image", "inspect", "--format", "{{.Id}}", reference])
        .ok();
    eprintln!("orphans-podman: copying image {reference} from Docker to Podman");
    let mut save = Command::new("docker")
        .args(["save", reference])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run docker save: {e}"))?;
    let archive = save.stdout.take().ok_or("no pipe from docker save")?;
    let load = Command::new("podman")
        .arg("load")
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
    pub fn create(name: &str) -> Result<Pod, String> {
        let conf = containers_conf()?;
        let mut engine = engine();
        engine.environment.push(("CONTAINERS_CONF".into(), conf));
        engine.run(&[
            "pod",
            "create",
            "--name",
            name,
            "--share",
            "+pid",
            "--network",
            "none",
        ])?;
        Ok(Pod {
            engine,
            name: name.to_string(),
        })
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        let _ = self.engine.run(&["pod", "rm", "-f", &self.name]);
    }
}
// ANCHOR_END: pod

/// Writes [`CONTAINERS_CONF`] to a file of its own in the temporary
/// directory (by rename, so that a concurrent reader never sees half of it)
/// and returns its path.
fn containers_conf() -> Result<OsString, String> {
    let dir = std::env::temp_dir();
    let path = dir.join("orphans-podman-containers.conf");
    if std::fs::read_to_string(&path).ok().as_deref() == Some(CONTAINERS_CONF) {
        return Ok(path.into_os_string());
    }
    let draft = dir.join(format!(
        "orphans-podman-containers.conf.{}",
        std::process::id()
    ));
    std::fs::write(&draft, CONTAINERS_CONF)
        .and_then(|()| std::fs::rename(&draft, &path))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path.into_os_string())
}
