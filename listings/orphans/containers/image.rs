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
use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};
use orphans::cache::Fnv64;
use orphans::containers::engine::Engine;
use orphans::missing::Missing;
use orphans::process::spawn::is_executable;
use orphans::toolchain::{cargo_build_command, executable_in, static_target, StaticTarget};

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

/// Builds the static binaries of the package rooted at `project`, and the
/// image from them, unless an image with the same inputs exists already.
/// Progress goes to stderr.
pub fn ensure_image(project: &Path) -> Result<Image, String> {
    let work = orphans::workspace::target_dir().join("image");
    fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    // Tests and book chapters may ask for the image at the same time.
    let _lock = lock_file(&work.join(".lock"))?;
    let busybox = busybox().map_err(|missing| missing.to_string())?;
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

/// Fails unless `path` is an ELF file without a program interpreter
/// (`PT_INTERP`): a dynamic binary would not start in a scratch image, and
/// its error, "no such file or directory", would name the wrong file.
pub fn require_static(path: &Path, hint: &str) -> Result<(), String> {
    let file = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let facts = orphans::elf::facts(&file).map_err(|why| format!("{}: {why}", path.display()))?;
    if facts.has_interpreter {
        return Err(format!(
            "{} is dynamically linked; a scratch image needs static binaries ({hint})",
            path.display()
        ));
    }
    Ok(())
}

/// Debian's static busybox (or `ORPHANS_BUSYBOX`), the shell and tools of
/// the image: it must exist and be linked statically, since the image has
/// no libc for it. `Ok` holds its path.
pub fn busybox() -> Result<PathBuf, Missing> {
    let path = busybox_path();
    let remedy = "apt-get install busybox-static, or set ORPHANS_BUSYBOX to a static busybox";
    if !is_executable(&path) {
        return Err(Missing::new(
            "a static busybox",
            format!("there is no {}", path.display()),
            remedy,
        ));
    }
    require_static(&path, "Debian's busybox-static is")
        .map_err(|why| Missing::new("a static busybox", why, remedy))?;
    Ok(path)
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
    Engine::docker()
        .run(&["image", "inspect", "--format", &format, reference])
        .ok()
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
    let docker = Engine::docker();
    let previous = docker.image_id(reference);
    let to_stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("duplicating stderr: {e}"))?;
    let label = format!("{INPUTS_LABEL}={inputs}");
    let status = docker
        .command(&["build", "--label", &label, "--tag", reference])
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
        let _ = docker.run(&["image", "rm", &old]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_program_is_refused_and_a_script_is_no_elf() {
        let me = std::env::current_exe().expect("current exe");
        let refused = require_static(&me, "a hint").unwrap_err();
        assert!(refused.contains("dynamically linked"), "{refused}");
        let script = std::env::temp_dir().join(format!("orphans-script-{}", std::process::id()));
        fs::write(&script, "#!/bin/sh\n").expect("write");
        assert!(require_static(&script, "")
            .unwrap_err()
            .contains("not a 64-bit"));
        let _ = fs::remove_file(&script);
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
