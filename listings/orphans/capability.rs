//! What this machine can run: one check per component that an experiment or
//! a test needs, shared by the book and the tests.
//!
//! Each check answers `Ok(())` or a [`Missing`] that says, in words for a
//! reader, what is missing, why, and the command that would install or
//! allow it. A chapter prints [`Missing::line`] (one line, starting with
//! [`NOT_RUN`]) instead of a table it could not make; a test prints
//! `skipped: …` (see `tests/common`), or fails where `ORPHANS_REQUIRE_*`
//! asks for the component.
//!
//! Contract for every check: it never panics, never prints, and finishes in
//! bounded time.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use orphans::workspace::{file_stamp, write_atomically};

/// The words every "not run here" line starts with. `.ci/check-book` looks
/// for them: in CI's full environment the book must contain none.
pub const NOT_RUN: &str = "Not run here:";

/// A component an experiment needs and this machine lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The component, as a reader knows it: "a Docker engine", "busybox".
    pub component: String,
    /// Why it is not usable, in a few words (no raw log).
    pub why: String,
    /// The command (or the step) that would provide it.
    pub remedy: String,
}

impl Missing {
    pub fn new(component: &str, why: impl Into<String>, remedy: &str) -> Missing {
        Missing {
            component: component.to_string(),
            why: one_line(&why.into()),
            remedy: remedy.to_string(),
        }
    }

    /// The one line a page shows for `experiment` (what was not run):
    /// `*Not run here: EXPERIMENT needs COMPONENT: WHY. To run it: REMEDY.*`
    pub fn line(&self, experiment: &str) -> String {
        format!("*{NOT_RUN} {experiment} needs {self}.*")
    }
}

impl Missing {
    /// Several missing parts as one (for a caller that returns one): their
    /// names joined by "and", their reasons and their remedies by "; ".
    pub fn combined(parts: &[Missing]) -> Missing {
        let join = |field: fn(&Missing) -> &str, by: &str| {
            parts.iter().map(field).collect::<Vec<_>>().join(by)
        };
        Missing {
            component: join(|m| &m.component, " and "),
            why: join(|m| &m.why, "; "),
            remedy: join(|m| &m.remedy, "; "),
        }
    }
}

/// The one line for `experiment` when several components are missing:
/// each named with its reason and remedy, joined by "; and".
pub fn line_for(experiment: &str, missing: &[Missing]) -> String {
    let parts: Vec<String> = missing.iter().map(Missing::to_string).collect();
    format!("*{NOT_RUN} {experiment} needs {}.*", parts.join("; and "))
}

/// The one line for `experiment` when everything it needs was there but it
/// failed anyway (a bug, or a machine that misbehaves): what it said last,
/// never its whole output.
pub fn failed_line(experiment: &str, error: &str) -> String {
    format!(
        "*{NOT_RUN} {experiment} failed on this machine: {} (the build's log has the rest).*",
        one_line(error)
    )
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}. To run it: {}",
            self.component, self.why, self.remedy
        )
    }
}

/// Why a table tool printed no table: a component this machine lacks, or
/// a measurement that went wrong. `?` makes one of either.
#[derive(Debug, PartialEq)]
pub enum NotShown {
    /// The page shows [`Missing::line`] instead of the table.
    Missing(Missing),
    /// An error: the tool says it on stderr and exits with status 1.
    Failed(String),
}

impl From<Missing> for NotShown {
    fn from(missing: Missing) -> NotShown {
        NotShown::Missing(missing)
    }
}

impl From<String> for NotShown {
    fn from(error: String) -> NotShown {
        NotShown::Failed(error)
    }
}

/// What a table tool does once it has tried to print the table of
/// `experiment`: nothing more if it did; else it prints the one line of
/// what is missing (on stdout, for the page), or says what went wrong (on
/// stderr) and exits with status 1.
pub fn finish(program: &str, experiment: &str, shown: Result<(), NotShown>) {
    match shown {
        Ok(()) => {}
        Err(NotShown::Missing(missing)) => println!("{}", missing.line(experiment)),
        Err(NotShown::Failed(error)) => orphans::cli::fail(program, 1, &error),
    }
}

/// The first line of `text`, trimmed and at most 200 characters, so that a
/// tool's error output can never flood a page.
pub fn one_line(text: &str) -> String {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut line: String = first.chars().take(200).collect();
    if first.chars().count() > 200 {
        line.push('…');
    }
    line.trim_end_matches('.').to_string()
}

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

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The first executable file called `name` in the directories of `$PATH`,
/// as a shell would find it.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

// The checks, one per component. Each says what the component buys in its
// remedy or its documentation, so that a line on a page is enough to act.

/// PID namespaces: the book's `container` (next to the running program)
/// can start `true` as PID 1 of a new namespace, as root or through a user
/// namespace.
pub fn namespaces() -> Result<(), Missing> {
    namespaces_with(&orphans::spawn::sibling("container"))
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
/// `orphans::docker::can_run_containers`).
///
/// The answer is remembered for this process, and in a file in the target
/// directory for [`DOCKER_ANSWER_LIFETIME`], keyed by what would change it:
/// the `docker` program found on `$PATH` (another client, a stand-in),
/// `DOCKER_HOST` and `DOCKER_CONTEXT` (another engine), and the engine's ID
/// and version (another engine behind the same socket, or an upgrade).
pub fn docker() -> Result<(), Missing> {
    static ANSWER: OnceLock<Result<(), Missing>> = OnceLock::new();
    ANSWER.get_or_init(docker_unremembered_or_recalled).clone()
}

fn docker_unremembered_or_recalled() -> Result<(), Missing> {
    let engine = orphans::docker::engine().map_err(no_docker)?;
    let cannot_run = |why: String| {
        Missing::new(
            "a Docker engine that can run containers",
            why,
            "fix the engine until `docker run --rm --network none IMAGE` works (its log tells why it cannot)",
        )
    };
    let memory = Remembered::new("docker-check", &docker_key(&engine));
    if let Some(answer) = memory.recall(DOCKER_ANSWER_LIFETIME) {
        return answer.map_err(cannot_run);
    }
    let answer =
        orphans::docker::can_run_containers(&orphans::workspace::cache_dir().join("check-image"));
    memory.store(&answer);
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
fn docker_key(engine: &orphans::docker::Engine) -> String {
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

/// An answer kept in a small file of the cache directory: its key on the
/// first line, the time it was found on the second, then `ok` or the
/// reason it was not.
struct Remembered {
    file: PathBuf,
    key: String,
}

impl Remembered {
    /// The answer called `name` for `key`: one file per key, so that two
    /// setups used in turn (a stand-in `docker` and the real one) do not
    /// keep replacing each other's answer.
    fn new(name: &str, key: &str) -> Remembered {
        let mut hash = orphans::workspace::Fnv64::new();
        hash.write(key.as_bytes());
        Remembered {
            file: orphans::workspace::cache_dir().join(format!("{name}-{}", hash.hex())),
            key: key.replace('\n', " "),
        }
    }

    /// The stored answer, if it has this key and is younger than `lifetime`.
    fn recall(&self, lifetime: Duration) -> Option<Result<(), String>> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        let mut lines = text.lines();
        if lines.next()? != self.key {
            return None;
        }
        let found: u64 = lines.next()?.parse().ok()?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?;
        if now.as_secs().saturating_sub(found) >= lifetime.as_secs() {
            return None;
        }
        match lines.next()? {
            "ok" => Some(Ok(())),
            why => Some(Err(why.to_string())),
        }
    }

    /// Stores `answer`; a failure to store only means asking again later.
    fn store(&self, answer: &Result<(), String>) {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |age| age.as_secs());
        let verdict = match answer {
            Ok(()) => "ok".to_string(),
            Err(why) => one_line(why),
        };
        let text = format!("{}\n{now}\n{verdict}\n", self.key);
        let _ = write_atomically(&self.file, &text);
    }
}

/// Debian's static busybox (or `ORPHANS_BUSYBOX`), the shell and tools of
/// the project's image: it must exist and be linked statically, since the
/// image has no libc for it.
pub fn busybox() -> Result<(), Missing> {
    let path = orphans::image::busybox_path();
    let remedy = "apt-get install busybox-static, or set ORPHANS_BUSYBOX to a static busybox";
    if !is_executable(&path) {
        return Err(Missing::new(
            "a static busybox",
            format!("there is no {}", path.display()),
            remedy,
        ));
    }
    orphans::image::require_static(&path, "Debian's busybox-static is")
        .map_err(|why| Missing::new("a static busybox", why, remedy))
}

/// What the project's image needs, all of it: an engine that runs
/// containers and a static busybox. Empty when both are there.
pub fn project_image() -> Vec<Missing> {
    [docker(), busybox()]
        .into_iter()
        .filter_map(Result::err)
        .collect()
}

/// The toolchain's musl target, with which cargo links fully static
/// binaries (foster's small static build, chapter 12; the project's image
/// prefers it). Asks the toolchain itself (`rustc --print sysroot`), so it
/// also works without rustup. `Ok` holds the target's name.
pub fn musl_target() -> Result<String, Missing> {
    let triple = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let installed =
        sysroot.is_some_and(|root| root.join("lib/rustlib").join(&triple).join("lib").is_dir());
    if installed {
        Ok(triple)
    } else {
        Err(Missing::new(
            "the musl target",
            format!("this Rust toolchain has no {triple}"),
            &format!("rustup target add {triple}"),
        ))
    }
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

/// How long `podman info` may take, in seconds: its first run on a machine
/// sets up Podman's storage.
const PODMAN_PATIENCE: u64 = 60;

/// Podman: the command is there and answers `podman info` (its storage and
/// OCI runtime are usable). Whether it can run a container here is for
/// `orphans::podman::ready`, which needs the project's image first.
pub fn podman() -> Result<(), Missing> {
    let missing = |why: String| {
        Missing::new(
            "Podman",
            why,
            "apt-get install podman, and run as root (rootless Podman also needs uidmap and /etc/subuid entries)",
        )
    };
    let mut info = std::process::Command::new("podman");
    info.args(["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
    let output = output_within(info, PODMAN_PATIENCE).map_err(missing)?;
    if output.status.success() {
        Ok(())
    } else {
        Err(missing(podman_failure(&String::from_utf8_lossy(
            &output.stderr,
        ))))
    }
}

/// The reason in what a failed `podman info` printed. Podman logs warnings
/// first (`level=warning msg=…`, about mounts, say); the reason is the line
/// that starts with `Error:` (for a user without root: no `newuidmap`).
fn podman_failure(stderr: &str) -> String {
    let reason = stderr
        .lines()
        .find(|line| line.starts_with("Error"))
        .unwrap_or(stderr);
    format!("`podman info` failed: {reason}")
}

/// Runs `command` and returns its output, or kills it after `seconds`, so
/// that a check never hangs a build. For commands that print little: the
/// output is read once the command has exited.
fn output_within(
    mut command: std::process::Command,
    seconds: u64,
) -> Result<std::process::Output, String> {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{program}` cannot be started ({e})"))?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while let Ok(None) = child.try_wait() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`{program}` did not answer within {seconds} s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
        .wait_with_output()
        .map_err(|e| format!("reading what `{program}` said: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_reason_is_its_error_line_not_its_warnings() {
        let stderr = "time=\"…\" level=warning msg=\"/ is not a shared mount\"\nError: command required for rootless mode with multiple IDs: exec: \"newuidmap\": executable file not found in $PATH\n";
        let why = podman_failure(stderr);
        assert!(why.contains("newuidmap"), "{why}");
        assert!(!why.contains("warning"), "{why}");
        assert_eq!(podman_failure("boom"), "`podman info` failed: boom");
    }

    #[test]
    fn a_missing_component_makes_one_marked_line() {
        let missing = Missing::new(
            "busybox",
            "no /bin/busybox\nsecond line",
            "apt-get install busybox-static",
        );
        let line = missing.line("The Docker table");
        assert_eq!(
            line,
            "*Not run here: The Docker table needs busybox: no /bin/busybox. To run it: apt-get install busybox-static.*"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn one_line_keeps_the_first_non_empty_line_and_bounds_it() {
        assert_eq!(one_line("\n  error: boom.  \nmore"), "error: boom");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), 201);
    }

    #[test]
    fn a_program_that_is_not_there_is_missing() {
        assert!(program("/no/such/program", "nothing").is_err());
        assert!(program("/bin/sh", "dash").is_ok());
        // A file that cannot be run is not a program.
        let plain = std::env::temp_dir().join(format!("orphans-plain-{}", std::process::id()));
        std::fs::write(&plain, "text").expect("write a plain file");
        assert!(program(&plain.to_string_lossy(), "nothing").is_err());
        let _ = std::fs::remove_file(&plain);
    }

    #[test]
    fn several_missing_parts_make_one_line() {
        let line = line_for(
            "The table",
            &[
                Missing::new("a Docker engine", "none answers", "install it"),
                Missing::new(
                    "a static busybox",
                    "there is no /x",
                    "apt-get install busybox-static",
                ),
            ],
        );
        assert_eq!(
            line,
            "*Not run here: The table needs a Docker engine: none answers. To run it: install it; \
             and a static busybox: there is no /x. To run it: apt-get install busybox-static.*"
        );
        let failed = failed_line("The table", "boom\nsecond");
        assert!(failed.starts_with("*Not run here: The table failed on this machine: boom"));
        assert!(!failed.contains('\n'));
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

    #[test]
    fn a_remembered_answer_needs_the_same_key_and_a_young_age() {
        let name = format!("test-remembered-{}", std::process::id());
        let memory = Remembered::new(&name, "key one");
        memory.store(&Err("no bridge\nmore".into()));
        assert_eq!(
            memory.recall(Duration::from_secs(60)),
            Some(Err("no bridge".into()))
        );
        assert_eq!(memory.recall(Duration::ZERO), None, "too old");
        assert_eq!(
            Remembered::new(&name, "key two").recall(Duration::from_secs(60)),
            None
        );
        memory.store(&Ok(()));
        assert_eq!(memory.recall(Duration::from_secs(60)), Some(Ok(())));
        let _ = std::fs::remove_file(&memory.file);
    }

    #[test]
    fn the_musl_check_agrees_with_rustup() {
        // rustup asks its own records; the check asks the toolchain.
        let Ok(listed) = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
        else {
            println!("skipped: no rustup to compare with");
            return;
        };
        let triple = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
        let installed = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .any(|line| line.trim() == triple);
        assert_eq!(musl_target().is_ok(), installed);
    }

    #[test]
    fn a_command_that_does_not_answer_in_time_is_killed() {
        let mut slow = std::process::Command::new("sleep");
        slow.arg("30");
        let started = std::time::Instant::now();
        assert!(output_within(slow, 1).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let mut quick = std::process::Command::new("echo");
        quick.arg("hi");
        let output = output_within(quick, 5).expect("echo answers");
        assert_eq!(output.stdout, b"hi\n");
    }
}
