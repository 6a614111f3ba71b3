//! A few calls of the `docker` command, for the experiments that need a
//! real engine. No registry is reachable, so the only image used is built
//! here from Debian's static busybox (package `busybox-static`).

use std::path::Path;
use std::process::Command;

/// The image the experiments run: nothing but `/bin/busybox`.
pub const BUSYBOX_IMAGE: &str = "orphans-subreaper-busybox:local";

/// Where Debian's `busybox-static` installs its single binary.
pub const BUSYBOX: &str = "/bin/busybox";

/// Runs `docker ARGS`; its trimmed stdout, or an error naming the command
/// and what docker said on stderr.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let output = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(format!("docker {}: {}", args.join(" "), said.trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The engine's version when a Docker engine answers, else why not.
pub fn engine_version() -> Result<String, String> {
    docker(&["info", "--format", "{{.ServerVersion}}"])
}

/// Makes sure [`BUSYBOX_IMAGE`] exists, importing it if needed from a tar
/// archive that holds only `bin/busybox` (`docker import` turns a root
/// file system into an image without any registry or base image).
pub fn ensure_busybox_image() -> Result<(), String> {
    if docker(&["image", "inspect", "--format", "{{.Id}}", BUSYBOX_IMAGE]).is_ok() {
        return Ok(());
    }
    if !Path::new(BUSYBOX).exists() {
        return Err(format!(
            "{BUSYBOX} is missing: install Debian's busybox-static to build {BUSYBOX_IMAGE}"
        ));
    }
    let dir = std::env::temp_dir().join(format!("orphans-busybox-{}", std::process::id()));
    let result = import_busybox_from(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn import_busybox_from(dir: &Path) -> Result<(), String> {
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("creating {}: {e}", bin.display()))?;
    std::fs::copy(BUSYBOX, bin.join("busybox")).map_err(|e| format!("copying {BUSYBOX}: {e}"))?;
    let tar = dir.join("rootfs.tar");
    let (rootfs, tar) = (dir.join("rootfs"), tar.to_string_lossy().into_owned());
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-cf", &tar, "."])
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar failed: {status}"));
    }
    docker(&["import", &tar, BUSYBOX_IMAGE]).map(|_| ())
}

/// A container started with `docker run -d`; dropping it removes it.
pub struct Running {
    pub id: String,
}

impl Running {
    /// Starts `args` (a command and its arguments) in `image`, detached.
    pub fn start(image: &str, args: &[&str]) -> Result<Running, String> {
        let mut run = vec!["run", "-d", "--rm", image];
        run.extend_from_slice(args);
        docker(&run).map(|id| Running { id })
    }

    /// The host PID of the container's PID 1, as the engine reports it.
    pub fn host_pid(&self) -> Result<i32, String> {
        let pid = docker(&["inspect", "--format", "{{.State.Pid}}", &self.id])?;
        pid.parse()
            .map_err(|_| format!("docker inspect gave '{pid}', not a PID"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}
