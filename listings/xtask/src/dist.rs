//! `cargo xtask dist`: foster's release files. Each step says on stderr
//! what it does; a missing tool is reported, with the command that
//! installs it, before anything is built.
//!
//! The files: the static binaries, the man page, a Debian and an RPM
//! package per architecture (deb.rs, rpm.rs), the image index as an OCI
//! archive (oci.rs), and SHA256SUMS for all of them.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::changelog::{self, Release};
use crate::package::Contents;
use crate::{deb, man, oci, rpm, sums, tools};
use orphans_elf::{self as elf, EM_AARCH64, EM_X86_64};

pub struct Options {
    /// Build the image index (and load it into Docker, if there is one).
    pub image: bool,
}

/// foster's size target, for each release binary (tini-static is 708,080
/// bytes).
pub const SIZE_LIMIT: u64 = 700_000;

/// A release target: rustup's musl target for one architecture.
pub struct Target {
    /// As `std::env::consts::ARCH` says it; also in the file's name, and
    /// RPM's name for the architecture.
    pub arch: &'static str,
    /// Debian's name for it, which OCI's platforms use too.
    pub debian_arch: &'static str,
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
        debian_arch: "amd64",
        triple: "x86_64-unknown-linux-musl",
        machine: EM_X86_64,
        cross_linker: "x86_64-linux-gnu-gcc",
        linker_package: "gcc-x86-64-linux-gnu",
    },
    Target {
        arch: "aarch64",
        debian_arch: "arm64",
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
    pub fn linker_variable(&self) -> String {
        format!(
            "CARGO_TARGET_{}_LINKER",
            self.triple.to_uppercase().replace('-', "_")
        )
    }

    /// The linker to give cargo, when this machine cannot link for the
    /// target by itself and nobody chose one already.
    pub fn needs_cross_linker(&self) -> bool {
        self.arch != std::env::consts::ARCH && std::env::var_os(self.linker_variable()).is_none()
    }

    pub fn file_name(&self, version: &str) -> String {
        format!("foster-{version}-{}-linux-musl", self.arch)
    }
}

/// What `cargo metadata` says about the workspace and foster.
struct Workspace {
    target_dir: PathBuf,
    /// foster's folder, with its CHANGELOG.md and licence texts.
    foster_dir: PathBuf,
    version: String,
    summary: String,
    homepage: String,
    license: String,
    maintainer: String,
}

/// Builds everything into `TARGET_DIR/dist/` and returns that folder.
pub fn dist(options: &Options) -> Result<PathBuf, String> {
    let started = Instant::now();
    let workspace = workspace()?;
    tools::check(options)?;
    // Read (and check) the changelog and licences before the long builds.
    let texts = Texts::read(&workspace)?;
    let page = man_page(&workspace);
    let contents = texts.contents(&workspace, &page);
    contents.check_changelog()?;
    let dist = workspace.target_dir.join("dist");
    let work = workspace.target_dir.join("xtask");
    fresh_folder(&dist)?;
    let mut files = Vec::new();
    let mut binaries = Vec::new();
    for target in &TARGETS {
        let bytes = build(&workspace, target)?;
        let name = target.file_name(&workspace.version);
        write(&dist.join(&name), &bytes, 0o755)?;
        files.push((name, bytes.clone()));
        binaries.push(bytes);
    }
    write(&dist.join("foster.1"), page.as_bytes(), 0o644)?;
    files.push(("foster.1".to_string(), page.as_bytes().to_vec()));
    let mut made = packages(&contents, &binaries, &work, &dist)?;
    if options.image {
        let image = oci::Image {
            version: &workspace.version,
            homepage: &workspace.homepage,
            license: &workspace.license,
            epoch: contents.epoch,
        };
        made.push(oci::build(&image, &binaries, &work, &dist)?);
    }
    for name in made {
        let path = dist.join(&name);
        let bytes = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        progress(format_args!("{name}: {} bytes", bytes.len()));
        files.push((name, bytes));
    }
    write(
        &dist.join("SHA256SUMS"),
        sums::sums_file(&files).as_bytes(),
        0o644,
    )?;
    progress(format_args!("wrote foster.1 and SHA256SUMS"));
    if options.image {
        match tools::docker_engine() {
            Ok(()) => oci::load_into_docker(&workspace.version, &dist)?,
            Err(why) => progress(format_args!("foster:VERSION not loaded into Docker: {why}")),
        }
    }
    progress(format_args!(
        "done in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        dist.display()
    ));
    Ok(dist)
}

/// The Debian and RPM packages of each target (`binaries[i]` is
/// `TARGETS[i]`'s binary), written into `dist`; returns their names.
fn packages(
    contents: &Contents,
    binaries: &[Vec<u8>],
    work: &Path,
    dist: &Path,
) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for (target, binary) in TARGETS.iter().zip(binaries) {
        progress(format_args!(
            "packaging foster for {}: .deb and .rpm",
            target.debian_arch
        ));
        names.push(deb::build(contents, target, binary, work, dist)?);
        names.push(rpm::build(contents, target, binary, work, dist)?);
    }
    Ok(names)
}

/// foster's texts that the packages carry, from its folder.
struct Texts {
    releases: Vec<Release>,
    license_mit: String,
    license_apache: String,
    /// LICENSE-MIT's copyright line, without `Copyright (c) `.
    copyright: String,
}

impl Texts {
    fn read(workspace: &Workspace) -> Result<Texts, String> {
        let read = |name: &str| {
            let path = workspace.foster_dir.join(name);
            fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))
        };
        let license_mit = read("LICENSE-MIT")?;
        let copyright = license_mit
            .lines()
            .find_map(|line| line.strip_prefix("Copyright (c) "))
            .ok_or("LICENSE-MIT has no `Copyright (c) ` line")?
            .to_string();
        Ok(Texts {
            releases: changelog::parse(&read("CHANGELOG.md")?)?,
            license_apache: read("LICENSE-APACHE")?,
            license_mit,
            copyright,
        })
    }

    fn contents<'a>(&'a self, workspace: &'a Workspace, page: &'a str) -> Contents<'a> {
        Contents {
            name: "foster",
            version: &workspace.version,
            description: &workspace.summary,
            maintainer: &workspace.maintainer,
            homepage: &workspace.homepage,
            license: &workspace.license,
            copyright: &self.copyright,
            license_mit: &self.license_mit,
            license_apache: &self.license_apache,
            changelog: &self.releases,
            man_page: page,
            // The newest release's day (check_changelog makes it this
            // version's).
            epoch: self
                .releases
                .first()
                .map_or(0, |release| release.date.epoch_seconds()),
        }
    }
}

pub fn progress(message: std::fmt::Arguments) {
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
    let manifest = PathBuf::from(text(&foster["manifest_path"], "manifest of foster")?);
    Ok(Workspace {
        target_dir: PathBuf::from(text(&metadata["target_directory"], "target directory")?),
        foster_dir: manifest.parent().map(Path::to_path_buf).unwrap_or_default(),
        version: text(&foster["version"], "version of foster")?,
        summary: text(&foster["description"], "description of foster")?,
        homepage: text(&foster["homepage"], "homepage of foster")?,
        license: text(&foster["license"], "license of foster")?,
        maintainer: text(
            &foster["metadata"]["dist"]["maintainer"],
            "[package.metadata.dist] maintainer of foster",
        )?,
    })
}

/// Runs `command` to its end; `what` names it in the error.
pub fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("{what}: cannot start it: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

pub fn fresh_folder(folder: &Path) -> Result<(), String> {
    if folder.exists() {
        fs::remove_dir_all(folder).map_err(|e| format!("emptying {}: {e}", folder.display()))?;
    }
    fs::create_dir_all(folder).map_err(|e| format!("creating {}: {e}", folder.display()))
}

pub fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
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
