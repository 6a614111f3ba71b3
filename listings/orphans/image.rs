//! The project's Docker image, `orphans:VERSION`, built locally `FROM
//! scratch`: no registry is needed. It holds static release builds of every
//! binary of the package in `/bin`, and Debian's static busybox
//! (package `busybox-static`) as `/bin/busybox`, `/bin/sh` and its other
//! applets.
//!
//! The static builds go to their own target directory, `image` inside
//! cargo's (wherever `CARGO_TARGET_DIR` puts it), so that they do not
//! invalidate the everyday debug builds. The image is built again only when
//! one of its files changed: its label [`INPUTS_LABEL`] holds a hash of
//! everything that went into it.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};
use orphans::capability::{self, Missing};
use orphans::docker::{docker, docker_text};
use orphans::workspace::Fnv64;

/// The image's name; its tag is the crate's version.
pub const IMAGE_NAME: &str = "orphans";
/// The label that records the hash of the image's inputs.
pub const INPUTS_LABEL: &str = "org.orphans.inputs";
/// Where Debian's `busybox-static` installs the static busybox.
pub const BUSYBOX: &str = "/bin/busybox";
/// The environment variable that names another static busybox.
pub const BUSYBOX_VARIABLE: &str = "ORPHANS_BUSYBOX";

/// The static busybox the image takes: `ORPHANS_BUSYBOX` if set (a
/// distribution that installs it elsewhere), else [`BUSYBOX`].
pub fn busybox_path() -> PathBuf {
    std::env::var_os(BUSYBOX_VARIABLE)
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from(BUSYBOX), PathBuf::from)
}

/// `orphans`, or `ORPHANS_IMAGE_NAME`: two checkouts that share one engine
/// (branches built side by side) keep their images apart that way.
pub fn image_name() -> String {
    std::env::var("ORPHANS_IMAGE_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| IMAGE_NAME.to_string())
}

/// `orphans:VERSION`, the image this crate's version builds.
pub fn image_reference() -> String {
    format!("{}:{}", image_name(), env!("CARGO_PKG_VERSION"))
}

/// What [`ensure_image`] produced.
#[derive(Clone, Debug)]
pub struct Image {
    /// `orphans:VERSION`.
    pub reference: String,
    /// The directory of the static binaries, for `docker run -v DIR:/src`.
    pub binaries_dir: PathBuf,
    /// The binaries' names (also their names in the image's `/bin`).
    pub binaries: Vec<String>,
    /// False when the image was already up to date.
    pub rebuilt: bool,
}

/// A Rust target that links statically, and the flags it needs for that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticTarget {
    pub triple: String,
    pub rustflags: Option<&'static str>,
}

/// Builds the static binaries of the package rooted at `project`, and the
/// image from them, unless an image with the same inputs exists already.
/// Progress goes to stderr.
pub fn ensure_image(project: &Path) -> Result<Image, String> {
    let work = orphans::workspace::target_dir().join("image");
    fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    // Tests and book chapters may ask for the image at the same time.
    let _lock = lock_file(&work.join(".lock"))?;
    capability::busybox().map_err(|missing| missing.to_string())?;
    let busybox = busybox_path();
    let target = static_target();
    let binaries = build_static_binaries(project, &work, &target)?;
    for binary in &binaries {
        require_static(binary, "check the target and flags above")?;
    }
    let reference = image_reference();
    let dockerfile = dockerfile();
    let inputs = inputs_hash(&dockerfile, &busybox, &binaries)?;
    let rebuilt = current_inputs_label(&reference).as_deref() != Some(inputs.as_str());
    if rebuilt {
        let context = stage_context(&work, &dockerfile, &busybox, &binaries)?;
        build_image(&context, &reference, &inputs)?;
    } else {
        progress(&format!(
            "image {reference} is up to date ({INPUTS_LABEL}={inputs})"
        ));
    }
    Ok(Image {
        reference,
        binaries_dir: binaries_dir(&binaries),
        binaries: binaries.iter().map(|b| file_name(b)).collect(),
        rebuilt,
    })
}

fn progress(message: &str) {
    eprintln!("orphans-image: {message}");
}

/// Holds an exclusive flock(2) on `path` until the result is dropped.
fn lock_file(path: &Path) -> Result<Flock<File>, String> {
    let file = File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("locking {}: {e}", path.display()))
}

/// musl links statically by default; when the toolchain does not have the
/// musl target, glibc can link statically too with `+crt-static`.
pub fn static_target() -> StaticTarget {
    match capability::musl_target() {
        Ok(musl) => StaticTarget {
            triple: musl,
            rustflags: None,
        },
        Err(_) => StaticTarget {
            triple: format!("{}-unknown-linux-gnu", std::env::consts::ARCH),
            rustflags: Some("-C target-feature=+crt-static"),
        },
    }
}

/// The cargo command that builds every binary of the package statically
/// into `target_dir` (documented in the README as the image's recipe).
pub fn cargo_build_command(target: &StaticTarget, target_dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["build", "--release", "--bins", "--target", &target.triple]);
    command.arg("--target-dir").arg(target_dir);
    command.arg("--message-format=json-render-diagnostics");
    if let Some(flags) = target.rustflags {
        // With --target, RUSTFLAGS reach only the target's code, not build
        // scripts, which must still run on the (dynamic) host.
        let old = std::env::var("RUSTFLAGS").unwrap_or_default();
        command.env("RUSTFLAGS", format!("{old} {flags}").trim());
    }
    command
}

/// Runs the static build and returns the paths of the binaries it made,
/// as cargo's JSON messages name them (so new binaries come along).
fn build_static_binaries(
    project: &Path,
    work: &Path,
    target: &StaticTarget,
) -> Result<Vec<PathBuf>, String> {
    progress(&format!(
        "building every binary for {}{} in {}",
        target.triple,
        target
            .rustflags
            .map(|f| format!(" ({f})"))
            .unwrap_or_default(),
        work.display()
    ));
    let mut child = cargo_build_command(target, work)
        .current_dir(project)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe from cargo")?;
    let mut binaries = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        binaries.extend(executable_in(&line));
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build for {} failed ({status})",
            target.triple
        ));
    }
    if binaries.is_empty() {
        return Err("cargo built no binaries".into());
    }
    binaries.sort();
    binaries.dedup();
    Ok(binaries)
}

/// The executable a `compiler-artifact` message of cargo names, if any.
fn executable_in(message: &str) -> Option<PathBuf> {
    let value: serde_json::Value = serde_json::from_str(message).ok()?;
    if value["reason"] != "compiler-artifact" {
        return None;
    }
    value["executable"].as_str().map(PathBuf::from)
}

/// Fails unless `path` is an ELF file without a program interpreter
/// (`PT_INTERP`): a dynamic binary would not start in a scratch image, and
/// its error, "no such file or directory", would name the wrong file.
pub fn require_static(path: &Path, hint: &str) -> Result<(), String> {
    let mut head = Vec::new();
    File::open(path)
        .and_then(|file| file.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    match has_interpreter(&head) {
        Some(false) => Ok(()),
        Some(true) => Err(format!(
            "{} is dynamically linked; a scratch image needs static binaries ({hint})",
            path.display()
        )),
        None => Err(format!("{} is not a 64-bit ELF file", path.display())),
    }
}

/// Whether the 64-bit little-endian ELF image starting with `head` has a
/// `PT_INTERP` program header (elf(5)); `None` if it is not such a file.
pub fn has_interpreter(head: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if head.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(head.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(head.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(head.get(at..at + 8)?.try_into().ok()?));
    let table = usize::try_from(u64_at(0x20)?).ok()?;
    let (entry_size, entries) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    for index in 0..entries {
        if u32_at(table + index * entry_size)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

/// The image's recipe. Its files come from the build context that
/// [`stage_context`] prepares.
pub fn dockerfile() -> String {
    format!(
        "FROM scratch\n\
         COPY bin/ /bin/\n\
         ENV PATH=/bin\n\
         LABEL org.opencontainers.image.title=\"{IMAGE_NAME}\" \
         org.opencontainers.image.version=\"{}\"\n\
         CMD [\"/bin/sh\"]\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// A hash of everything that goes into the image: the Dockerfile, and the
/// name and bytes of every file (FNV-1a, 64 bits: a cache key, not a
/// defence against anyone).
fn inputs_hash(dockerfile: &str, busybox: &Path, binaries: &[PathBuf]) -> Result<String, String> {
    let mut hash = Fnv64::new();
    hash.write(dockerfile.as_bytes());
    for path in std::iter::once(busybox).chain(binaries.iter().map(PathBuf::as_path)) {
        let bytes = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        hash.write(file_name(path).as_bytes());
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(&bytes);
    }
    Ok(hash.hex())
}

/// The inputs label of the image `reference`, if there is such an image.
fn current_inputs_label(reference: &str) -> Option<String> {
    let format = format!("{{{{index .Config.Labels \"{INPUTS_LABEL}\"}}}}");
    docker_text(&["image", "inspect", "--format", &format, reference]).ok()
}

/// Prepares `work/context`: the Dockerfile, and `bin/` with busybox, a
/// symbolic link to it for each of its applets, and our binaries (which win
/// over an applet of the same name).
fn stage_context(
    work: &Path,
    dockerfile: &str,
    busybox: &Path,
    binaries: &[PathBuf],
) -> Result<PathBuf, String> {
    let context = work.join("context");
    let bin = context.join("bin");
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    if context.exists() {
        fs::remove_dir_all(&context).map_err(|e| io("cleaning the build context", e))?;
    }
    fs::create_dir_all(&bin).map_err(|e| io("creating the build context", e))?;
    fs::write(context.join("Dockerfile"), dockerfile).map_err(|e| io("writing Dockerfile", e))?;
    fs::copy(busybox, bin.join("busybox")).map_err(|e| io("copying busybox", e))?;
    let ours: Vec<String> = binaries.iter().map(|b| file_name(b)).collect();
    for applet in busybox_applets(busybox)? {
        if applet != "busybox" && !ours.contains(&applet) {
            std::os::unix::fs::symlink("busybox", bin.join(&applet))
                .map_err(|e| io(&format!("linking {applet}"), e))?;
        }
    }
    for (binary, name) in binaries.iter().zip(&ours) {
        fs::copy(binary, bin.join(name)).map_err(|e| io(&format!("copying {name}"), e))?;
    }
    Ok(context)
}

/// The applets busybox offers (`busybox --list`).
fn busybox_applets(busybox: &Path) -> Result<Vec<String>, String> {
    let output = Command::new(busybox)
        .arg("--list")
        .output()
        .map_err(|e| format!("running {} --list: {e}", busybox.display()))?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .map(String::from)
        .collect())
}

/// `docker build`, its progress sent to our stderr (our stdout is for the
/// image's name), then removal of the image this one replaces.
fn build_image(context: &Path, reference: &str, inputs: &str) -> Result<(), String> {
    progress(&format!(
        "building image {reference} from {}",
        context.display()
    ));
    let previous = docker_text(&["image", "inspect", "--format", "{{.Id}}", reference]).ok();
    let to_stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("duplicating stderr: {e}"))?;
    let label = format!("{INPUTS_LABEL}={inputs}");
    let status = Command::new("docker")
        .args(["build", "--label", &label, "--tag", reference])
        .arg(context)
        .stdin(Stdio::null())
        .stdout(Stdio::from(to_stderr))
        .status()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if !status.success() {
        return Err(format!("docker build failed ({status})"));
    }
    if let Some(old) = previous {
        // Fails harmlessly if a container still uses the old image.
        let _ = docker(&["image", "rm", &old]);
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The directory the static binaries share (cargo puts them together).
fn binaries_dir(binaries: &[PathBuf]) -> PathBuf {
    binaries
        .first()
        .and_then(|b| b.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Whether a tool's `docker` rows can run here.
pub enum Availability {
    /// An engine runs containers and the project's image is up to date.
    Ready(Image),
    /// What is missing (the engine, busybox, or both), for one line under
    /// the table.
    Unavailable(Vec<Missing>),
}

/// For tools whose tables have `docker` rows: the project's image, built
/// if needed, or what this machine lacks for it. `Err` when everything is
/// there but the image cannot be built.
pub fn image_for_docker_rows() -> Result<Availability, String> {
    let missing = capability::project_image();
    if !missing.is_empty() {
        return Ok(Availability::Unavailable(missing));
    }
    ensure_image(&orphans::workspace::project_dir()).map(Availability::Ready)
}

/// What a table tool with `docker` rows (command lines whose first word is
/// `docker`) can do with them here.
pub struct DockerRows {
    /// The project's image, when the rows can run.
    pub image: Option<String>,
    /// Otherwise what is missing, for one line under the table.
    pub missing: Vec<Missing>,
}

/// Whether `row` (a command line) is one to run under Docker.
pub fn is_docker_row(row: &str) -> bool {
    row.split_whitespace().next() == Some("docker")
}

impl DockerRows {
    /// Looks at `rows`: if one of them is a `docker` row, builds the image
    /// (once) or finds out what is missing. `Err` when everything is there
    /// but the image cannot be built.
    pub fn for_rows(rows: &[String]) -> Result<DockerRows, String> {
        let none_missing = DockerRows {
            image: None,
            missing: Vec::new(),
        };
        if !rows.iter().any(|row| is_docker_row(row)) {
            return Ok(none_missing);
        }
        Ok(match image_for_docker_rows()? {
            Availability::Ready(image) => DockerRows {
                image: Some(image.reference),
                ..none_missing
            },
            Availability::Unavailable(missing) => DockerRows {
                missing,
                ..none_missing
            },
        })
    }

    /// Whether `row` can run here.
    pub fn runs(&self, row: &str) -> bool {
        !is_docker_row(row) || self.image.is_some()
    }

    /// The one line that says why the `docker` rows are not in the table.
    pub fn note(&self) -> Option<String> {
        (!self.missing.is_empty())
            .then(|| capability::line_for("The rows under Docker", &self.missing))
    }
}

/// The project's image if it has been built already, without building it:
/// for a chapter's block, which `cargo test` compiles and runs on its own
/// (the book's build and the Docker tests build the image).
pub fn built_image() -> Result<String, Missing> {
    capability::docker()?;
    let reference = image_reference();
    match docker_text(&["image", "inspect", "--format", "{{.Id}}", &reference]) {
        Ok(_) => Ok(reference),
        Err(_) => Err(Missing::new(
            "the project's image",
            format!("{reference} has not been built yet"),
            "cargo run --bin orphans-image",
        )),
    }
}

/// Builds foster as images use it: static (musl), size-optimised (the
/// `foster` profile), into cargo's usual target directory. Returns the
/// binary's path; cargo's progress goes to our stderr. `Err` says why not
/// (no musl target, or the build failed).
pub fn build_static_foster() -> Result<PathBuf, String> {
    let triple = capability::musl_target().map_err(|missing| missing.to_string())?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "-p", "foster", "--profile", "foster", "--target"])
        .arg(&triple)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(orphans::workspace::project_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo build -p foster for {triple} failed"));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(executable_in)
        .find(|path| path.file_name().is_some_and(|name| name == "foster"))
        .ok_or_else(|| "cargo built no foster binary".into())
}

/// For tables whose rows all run in Docker: the project's image, built if
/// needed, or what this machine lacks for them (an engine, or an image it
/// could build), as the one line a page shows.
pub fn image_or_missing() -> Result<Image, Missing> {
    capability::docker()?;
    match image_for_docker_rows() {
        Ok(Availability::Ready(image)) => Ok(image),
        // What the image needs besides the engine (busybox, say).
        Ok(Availability::Unavailable(missing)) => Err(Missing::combined(&missing)),
        Err(why) => Err(Missing::new(
            "the project's image",
            why,
            "see `cargo run --bin orphans-image`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_test_binary_is_recognised_as_elf() {
        let me = std::env::current_exe().expect("current exe");
        let head = fs::read(me).expect("read it");
        assert!(has_interpreter(&head).is_some());
        assert_eq!(has_interpreter(b"#!/bin/sh\n"), None);
    }

    #[test]
    fn the_tag_is_the_crate_version() {
        let name = std::env::var("ORPHANS_IMAGE_NAME").unwrap_or_default();
        let name = if name.is_empty() { IMAGE_NAME } else { &name };
        assert_eq!(
            image_reference(),
            format!("{name}:{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
