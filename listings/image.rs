//! A minimal Docker image of the book's own programs: built statically
//! (musl), copied into an image `FROM scratch`, nothing else in it. Enough
//! to run the workloads under a real Docker engine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use orphans::spawn::own_dir;

/// The book's programs that the table tools put in their image: the
/// workloads of chapters 8 and 9. Add a PID 1 here to use it in `docker`
/// rows.
pub const WORKLOADS: [&str; 3] = ["naive-init", "worker", "orphan-maker"];

/// The target whose binaries need no shared library.
const STATIC_TARGET: &str = "x86_64-unknown-linux-musl";

/// Why no Docker engine can be used here, if none can.
pub fn docker_unavailable() -> Option<String> {
    match Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
    {
        Ok(output) if output.status.success() => None,
        Ok(output) => Some(format!(
            "no Docker engine ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(e) => Some(format!("no docker command ({e})")),
    }
}

/// Makes the image `tag` of the [`WORKLOADS`] if a Docker engine runs here:
/// `Ok(None)` when it is ready, `Ok(Some(reason))` when there is no engine.
pub fn workload_image(tag: &str) -> Result<Option<String>, String> {
    if let Some(reason) = docker_unavailable() {
        return Ok(Some(reason));
    }
    build_scratch_image(tag, &WORKLOADS).map(|()| None)
}

/// Parses the value of `--image`: a tag, not empty.
pub fn image_tag(value: Result<std::ffi::OsString, lexopt::Error>) -> Result<String, String> {
    match value.map(|v| v.into_string()) {
        Ok(Ok(tag)) if !tag.is_empty() => Ok(tag),
        Ok(_) => Err("--image takes a non-empty tag".into()),
        Err(error) => Err(error.to_string()),
    }
}

/// Builds the book's programs `bins` for [`STATIC_TARGET`] and makes the
/// image `tag` of them, with the programs in `/bin`.
pub fn build_scratch_image(tag: &str, bins: &[&str]) -> Result<(), String> {
    let binaries = build_static(bins)?;
    let context = std::env::temp_dir().join(format!("orphans-image-{}", std::process::id()));
    let result = make_context(&context, &binaries).and_then(|()| docker_build(tag, &context));
    let _ = std::fs::remove_dir_all(&context);
    result
}

/// Runs cargo for the static target, in the same target directory as the
/// running program; returns the paths of the binaries.
fn build_static(bins: &[&str]) -> Result<Vec<PathBuf>, String> {
    let target_dir = own_dir()
        .parent()
        .map(Path::to_path_buf)
        .ok_or("cannot tell the target directory")?;
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--release", "--target", STATIC_TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    for bin in bins {
        command.args(["--bin", bin]);
    }
    run_quietly(&mut command, "cargo build (static)")?;
    let dir = target_dir.join(STATIC_TARGET).join("release");
    Ok(bins.iter().map(|bin| dir.join(bin)).collect())
}

/// A build context: the binaries and a Dockerfile that copies them.
fn make_context(context: &Path, binaries: &[PathBuf]) -> Result<(), String> {
    let io = |e: std::io::Error| format!("preparing {}: {e}", context.display());
    std::fs::create_dir_all(context).map_err(io)?;
    let mut dockerfile = String::from("FROM scratch\nENV PATH=/bin\n");
    for binary in binaries {
        let name = binary.file_name().ok_or("a binary without a name")?;
        std::fs::copy(binary, context.join(name)).map_err(io)?;
        dockerfile += &format!("COPY {} /bin/\n", name.to_string_lossy());
    }
    std::fs::write(context.join("Dockerfile"), dockerfile).map_err(io)
}

fn docker_build(tag: &str, context: &Path) -> Result<(), String> {
    let mut command = Command::new("docker");
    command
        .args(["build", "--quiet", "--tag", tag])
        .arg(context);
    run_quietly(&mut command, "docker build")
}

/// Runs `command`, keeping its output unless it fails.
fn run_quietly(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}
