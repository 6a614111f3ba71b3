//! `cargo xtask dist`: foster's release files. Each step says on stderr
//! what it does; a missing tool is reported, with the command that
//! installs it, before anything is built.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{man, sums};
use orphans_elf::{self as elf, EM_AARCH64, EM_X86_64};

pub struct Options {
    /// Build the image `foster:VERSION` too.
    pub image: bool,
}

/// foster's size target, for each release binary (tini-static is 708,080
/// bytes).
pub const SIZE_LIMIT: u64 = 700_000;

/// A release target: rustup's musl target for one architecture.
pub struct Target {
    /// As `std::env::consts::ARCH` says it; also in the file's name.
    pub arch: &'static str,
    pub triple: &'static str,
    /// `e_machine` in the ELF header.
    pub machine: u16,
    /// The C compiler that links for this target on another machine.
    pub cross_linker: &'static str,
    /// The Debian package of `cross_linker`.
    pub linker_package: &'static str,
}

pub const TARGETS: [Target; 2] = [
    Target {
        arch: "x86_64",
        triple: "x86_64-unknown-linux-musl",
        machine: EM_X86_64,
        cross_linker: "x86_64-linux-gnu-gcc",
        linker_package: "gcc-x86-64-linux-gnu",
    },
    Target {
        arch: "aarch64",
        triple: "aarch64-unknown-linux-musl",
        machine: EM_AARCH64,
        cross_linker: "aarch64-linux-gnu-gcc",
        linker_package: "gcc-aarch64-linux-gnu",
    },
];

/// The man page's SEE ALSO: where the behaviour it describes comes from.
const SEE_ALSO: &str = "tini(1), docker-run(1), podman-run(1), prctl(2), kill(2), \
signalfd(2), wait(2), pid_namespaces(7), signal(7)";

impl Target {
    /// cargo's variable for this target's linker (`CARGO_TARGET_<TRIPLE>_LINKER`).
    fn linker_variable(&self) -> String {
        format!(
            "CARGO_TARGET_{}_LINKER",
            self.triple.to_uppercase().replace('-', "_")
        )
    }

    /// The linker to give cargo, when this machine cannot link for the
    /// target by itself and nobody chose one already.
    fn needs_cross_linker(&self) -> bool {
        self.arch != std::env::consts::ARCH && std::env::var_os(self.linker_variable()).is_none()
    }

    pub fn file_name(&self, version: &str) -> String {
        format!("foster-{version}-{}-linux-musl", self.arch)
    }
}

/// What `cargo metadata` says about the workspace.
struct Workspace {
    target_dir: PathBuf,
    version: String,
    summary: String,
}

/// Builds everything into `TARGET_DIR/dist/` and returns that folder.
pub fn dist(options: &Options) -> Result<PathBuf, String> {
    let started = Instant::now();
    let workspace = workspace()?;
    check_tools(options)?;
    let dist = workspace.target_dir.join("dist");
    fresh_folder(&dist)?;
    let mut files = Vec::new();
    for target in &TARGETS {
        let bytes = build(&workspace, target)?;
        let name = target.file_name(&workspace.version);
        write(&dist.join(&name), &bytes, 0o755)?;
        files.push((name, bytes));
    }
    let page = man_page(&workspace);
    write(&dist.join("foster.1"), page.as_bytes(), 0o644)?;
    files.push(("foster.1".to_string(), page.into_bytes()));
    write(
        &dist.join("SHA256SUMS"),
        sums::sums_file(&files).as_bytes(),
        0o644,
    )?;
    progress(format_args!("wrote foster.1 and SHA256SUMS"));
    if options.image {
        build_image(&workspace, &files)?;
    }
    progress(format_args!(
        "done in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        dist.display()
    ));
    Ok(dist)
}

fn progress(message: std::fmt::Arguments) {
    eprintln!("xtask: {message}");
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The target directory (wherever `CARGO_TARGET_DIR` or a config puts it)
/// and foster's version and description, from `cargo metadata`.
fn workspace() -> Result<Workspace, String> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed ({})", output.status));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    let foster = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "foster"))
        .ok_or("cargo metadata lists no package foster")?;
    let text = |value: &serde_json::Value, what: &str| {
        value
            .as_str()
            .map(str::to_string)
            .ok_or(format!("cargo metadata gives no {what}"))
    };
    Ok(Workspace {
        target_dir: PathBuf::from(text(&metadata["target_directory"], "target directory")?),
        version: text(&foster["version"], "version of foster")?,
        summary: text(&foster["description"], "description of foster")?,
    })
}

/// Everything the build needs that cargo does not install: all that is
/// missing, in one error, each with the command that installs it.
fn check_tools(options: &Options) -> Result<(), String> {
    let mut missing = Vec::new();
    let installed = installed_targets();
    for target in &TARGETS {
        if installed
            .as_ref()
            .is_some_and(|list| !list.iter().any(|t| t == target.triple))
        {
            missing.push(format!(
                "rustup's target {0}: rustup target add {0}",
                target.triple
            ));
        }
        if target.needs_cross_linker() && !on_path(target.cross_linker) {
            missing.push(format!(
                "{} to link the {} build: apt-get install {} (or set {})",
                target.cross_linker,
                target.arch,
                target.linker_package,
                target.linker_variable()
            ));
        }
    }
    if options.image {
        if let Err(why) = docker_engine() {
            missing.push(format!("{why}; or pass --no-image"));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("missing:\n  {}", missing.join("\n  ")))
    }
}

/// rustup's installed targets; `None` without rustup (then cargo says
/// what is missing).
fn installed_targets() -> Option<Vec<String>> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().map(|line| line.trim().to_string()).collect())
}

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| {
        fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

fn docker_engine() -> Result<(), String> {
    let output = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map_err(|e| format!("no docker command ({e}): apt-get install docker.io"))?;
    if output.status.success() {
        return Ok(());
    }
    let why = String::from_utf8_lossy(&output.stderr);
    let why = why
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("no answer");
    Err(format!(
        "a Docker engine for the image ({}): start dockerd",
        why.trim()
    ))
}

/// Runs `command` to its end; `what` names it in the error.
fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("{what}: cannot start it: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn fresh_folder(folder: &Path) -> Result<(), String> {
    if folder.exists() {
        fs::remove_dir_all(folder).map_err(|e| format!("emptying {}: {e}", folder.display()))?;
    }
    fs::create_dir_all(folder).map_err(|e| format!("creating {}: {e}", folder.display()))
}

fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    fs::write(path, bytes)
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// `cargo build -p foster --profile foster --target TRIPLE --locked`, and
/// the checks a release binary must pass; returns the binary's bytes.
fn build(workspace: &Workspace, target: &Target) -> Result<Vec<u8>, String> {
    let started = Instant::now();
    progress(format_args!(
        "building foster {} for {}",
        workspace.version, target.triple
    ));
    let mut command = cargo();
    command
        .args(["build", "-p", "foster", "--profile", "foster", "--locked"])
        .args(["--target", target.triple])
        // Keep stdout for the folder's path: cargo's messages go to stderr.
        .stdout(Stdio::from(std::io::stderr()));
    if target.needs_cross_linker() {
        command.env(target.linker_variable(), target.cross_linker);
    }
    run(&mut command, &format!("cargo build for {}", target.triple))?;
    let path = workspace
        .target_dir
        .join(target.triple)
        .join("foster")
        .join("foster");
    let bytes = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    check_release_binary(target, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    progress(format_args!(
        "{}: {} bytes (at most {SIZE_LIMIT}), static, stripped; {:.1} s",
        target.file_name(&workspace.version),
        bytes.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(bytes)
}

/// Static (no ELF interpreter: it must start `FROM scratch`), stripped,
/// for the right machine, and within the size target.
fn check_release_binary(target: &Target, bytes: &[u8]) -> Result<(), String> {
    let facts = elf::facts(bytes)?;
    if facts.machine != target.machine {
        return Err(format!(
            "built for ELF machine {}, not {} ({})",
            facts.machine, target.machine, target.arch
        ));
    }
    if facts.has_interpreter {
        return Err("dynamically linked; a release binary must be static".into());
    }
    if facts.has_symbol_table {
        return Err("not stripped (the foster profile sets strip = true)".into());
    }
    let size = bytes.len() as u64;
    if size > SIZE_LIMIT {
        return Err(format!(
            "{size} bytes, over the size target of {SIZE_LIMIT}"
        ));
    }
    Ok(())
}

fn man_page(workspace: &Workspace) -> String {
    man::render(&man::Page {
        name: "foster",
        version: &workspace.version,
        summary: &workspace.summary,
        usage: foster::options::USAGE,
        license: foster::options::LICENSE,
        see_also: SEE_ALSO,
    })
}

/// The image `foster:VERSION`: `FROM scratch`, only this machine's binary
/// at `/foster`, for `COPY --from=foster:VERSION /foster /foster`.
fn build_image(workspace: &Workspace, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let arch = std::env::consts::ARCH;
    let native = TARGETS
        .iter()
        .find(|target| target.arch == arch)
        .map(|target| target.file_name(&workspace.version))
        .and_then(|name| files.iter().find(|(file, _)| *file == name))
        .ok_or(format!(
            "no release build for this machine ({arch}) to put in the image"
        ))?;
    let context = workspace.target_dir.join("xtask").join("image");
    fresh_folder(&context)?;
    write(&context.join("foster"), &native.1, 0o755)?;
    write(
        &context.join("Dockerfile"),
        dockerfile(&workspace.version).as_bytes(),
        0o644,
    )?;
    let reference = format!("foster:{}", workspace.version);
    progress(format_args!(
        "building the image {reference} from {}",
        native.0
    ));
    let mut build = Command::new("docker");
    build
        .args(["build", "--network", "none", "--tag", &reference])
        .arg(&context)
        .stdout(Stdio::from(std::io::stderr()));
    run(&mut build, &format!("docker build of {reference}"))?;
    Ok(())
}

fn dockerfile(version: &str) -> String {
    format!(
        "FROM scratch\n\
         COPY foster /foster\n\
         LABEL org.opencontainers.image.title=\"foster\" org.opencontainers.image.version=\"{version}\"\n\
         ENTRYPOINT [\"/foster\"]\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_binary_checks_can_say_no() {
        let x86 = &TARGETS[0];
        // This test program: the host's machine, but dynamic, with symbols.
        let this = fs::read(std::env::current_exe().unwrap()).unwrap();
        let error = check_release_binary(x86, &this).unwrap_err();
        assert!(
            error.contains("dynamically linked") || error.contains("ELF machine"),
            "{error}"
        );
        assert!(check_release_binary(x86, b"not an ELF file").is_err());
    }

    #[test]
    fn names_and_variables() {
        assert_eq!(
            TARGETS[1].file_name("1.2.3"),
            "foster-1.2.3-aarch64-linux-musl"
        );
        assert_eq!(
            TARGETS[1].linker_variable(),
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER"
        );
    }
}
