//! Talking to a Docker engine through the `docker` command: is there one,
//! and run a command in a container while the host looks at its PID 1.
//!
//! The `docker` CLI is used rather than the engine's HTTP API so that every
//! step is a command a reader can type.
//!
//! Every container the book starts is hermetic: `--network none` (none of
//! the experiments needs a network, and an engine whose default bridge is
//! broken still runs such containers), and nothing from the client's
//! machine is mounted into it, so the engine may be anywhere.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a container may take to start before we give up on it.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The start of every `docker run` of the book: no network at all.
pub const RUN: [&str; 3] = ["run", "--network", "none"];

/// Runs `docker ARGS` and returns its output; `Err` says what failed.
pub fn docker(args: &[&str]) -> Result<Output, String> {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))
}

/// Stdout of `docker ARGS`, trimmed, when it succeeds; otherwise its stderr.
pub fn docker_text(args: &[&str]) -> Result<String, String> {
    let output = docker(args)?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(format!(
            "docker {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The engine's version (`docker info`), or why no engine answers.
pub fn engine_version() -> Result<String, String> {
    engine().map(|engine| engine.version)
}

/// The engine the `docker` command talks to, as `docker info` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    pub version: String,
    /// The engine's ID, which stays the same across its restarts.
    pub id: String,
}

/// Which engine answers, or why none does.
pub fn engine() -> Result<Engine, String> {
    let answer = docker_text(&["info", "--format", "{{.ServerVersion}} {{.ID}}"])
        .map_err(|e| format!("no Docker engine answers ({e})"))?;
    let (version, id) = answer.split_once(' ').unwrap_or((&answer, ""));
    if version.is_empty() {
        return Err("no Docker engine answers (docker info names no server)".into());
    }
    Ok(Engine {
        version: version.to_string(),
        id: id.to_string(),
    })
}

/// The image of [`can_run_containers`]: one file, the smallest program
/// there is (it only calls exit_group(0)), `FROM scratch`.
pub const CHECK_IMAGE: &str = "orphans-check:1";

/// Whether the engine can really run a container, which `docker info`
/// does not tell: it may answer and still fail every `docker run` (an
/// engine whose default bridge is missing, a runtime that cannot start).
/// Runs [`CHECK_IMAGE`] once, building it first if the engine lacks it;
/// `Err` holds the engine's complaint, in one line.
pub fn can_run_containers(work: &Path) -> Result<(), String> {
    match run_check_container() {
        Err(why) if why.contains("No such image") => {
            build_check_image(work)?;
            run_check_container()
        }
        other => other,
    }
}

fn run_check_container() -> Result<(), String> {
    let name = unique_container_name("check");
    let mut args = RUN.to_vec();
    args.extend(["--rm", "--pull", "never", "--name", &name, CHECK_IMAGE]);
    succeeded(
        docker_within(&args, START_TIMEOUT)?,
        "`docker run --network none`",
    )
}

/// `Ok` if `output` is a success, else what `what` said, in one line.
fn succeeded(output: Output, what: &str) -> Result<(), String> {
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "{what} failed: {}",
        orphans::capability::one_line(&said)
    ))
}

/// Builds [`CHECK_IMAGE`] from a context in `work`.
fn build_check_image(work: &Path) -> Result<(), String> {
    let program = smallest_program(std::env::consts::ARCH).ok_or_else(|| {
        format!(
            "no check program for this machine's architecture ({})",
            std::env::consts::ARCH
        )
    })?;
    let io = |e: std::io::Error| format!("preparing the check image in {}: {e}", work.display());
    std::fs::create_dir_all(work).map_err(io)?;
    let file = work.join("exit0");
    std::fs::write(&file, program).map_err(io)?;
    // `COPY` keeps the file's mode: it must be executable.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
    let dockerfile = "FROM scratch\nCOPY exit0 /exit0\nENTRYPOINT [\"/exit0\"]\n";
    std::fs::write(work.join("Dockerfile"), dockerfile).map_err(io)?;
    let context = work.to_string_lossy();
    let output = docker_within(
        &["build", "--quiet", "--tag", CHECK_IMAGE, &context],
        Duration::from_secs(120),
    )?;
    succeeded(output, "`docker build` of the check image")
}

/// A complete static program for Linux on `arch` that exits with status 0
/// and does nothing else: a 64-bit ELF header, one loadable segment that
/// maps the whole file (elf(5)), and two or three instructions. `None` for
/// an architecture it does not know.
pub fn smallest_program(arch: &str) -> Option<Vec<u8>> {
    const BASE: u64 = 0x40_0000;
    const HEADERS: u64 = 64 + 56;
    let (machine, code): (u16, &[u8]) = match arch {
        // xor edi, edi; mov eax, 231 (exit_group); syscall
        "x86_64" => (62, &[0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]),
        // mov x0, #0; mov x8, #94 (exit_group); svc #0
        "aarch64" => (
            183,
            &[
                0x00, 0x00, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
            ],
        ),
        _ => return None,
    };
    let size = HEADERS + code.len() as u64;
    let mut elf = Vec::with_capacity(size as usize);
    // The file header: magic, 64-bit, little-endian, version 1, System V.
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&machine.to_le_bytes());
    elf.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    elf.extend_from_slice(&(BASE + HEADERS).to_le_bytes()); // entry: the code
    elf.extend_from_slice(&64u64.to_le_bytes()); // program headers follow
    elf.extend_from_slice(&0u64.to_le_bytes()); // no section headers
    elf.extend_from_slice(&0u32.to_le_bytes()); // flags
    for half in [64u16, 56, 1, 64, 0, 0] {
        // header size, program header size and count, section header
        // size, count and string table index
        elf.extend_from_slice(&half.to_le_bytes());
    }
    // The one program header: PT_LOAD, readable and executable, the file
    // from offset 0 mapped at BASE.
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&5u32.to_le_bytes());
    for word in [0, BASE, BASE, size, size, 0x1000] {
        elf.extend_from_slice(&word.to_le_bytes());
    }
    elf.extend_from_slice(code);
    Some(elf)
}

/// `docker ARGS`, killed if it has not finished within `limit` (an engine
/// can hang as well as fail).
pub fn docker_within(args: &[&str], limit: Duration) -> Result<Output, String> {
    let mut child = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "docker {} did not finish within {} s",
                    args.first().unwrap_or(&""),
                    limit.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for docker: {e}")),
        }
    }
    child
        .wait_with_output()
        .map_err(|e| format!("waiting for docker: {e}"))
}

// ANCHOR: watched
/// What [`run_watched`] saw: the command line it ran, the host's PID of
/// the container's PID 1 (`docker inspect`, `.State.Pid`), and what the
/// command printed.
#[derive(Clone, Debug)]
pub struct WatchedRun {
    pub command_line: String,
    pub host_pid_of_pid1: i32,
    pub stdout: String,
}

/// Runs `command` as PID 1 of a new container of `image` (with the extra
/// `docker run` options `options`), and asks the engine for that PID 1's
/// host PID *before* the command starts: PID 1 is first a shell that waits
/// for a line on its stdin, then `exec`s the command, keeping its PID.
pub fn run_watched(image: &str, options: &[&str], command: &[&str]) -> Result<WatchedRun, String> {
    let name = unique_container_name("watched");
    let mut args = RUN.to_vec();
    args.extend(["-i", "--rm", "--name", &name]);
    args.extend(options);
    args.extend([image, "/bin/sh", "-c", "read go && exec \"$@\"", "sh"]);
    args.extend(command);
    let mut client = Command::new("docker")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    let host_pid = match wait_for_host_pid(&name, &mut client) {
        Ok(pid) => pid,
        Err(e) => {
            let _ = client.kill();
            let _ = docker(&["rm", "-f", &name]);
            let _ = client.wait();
            return Err(e);
        }
    };
    // The go-ahead; closing stdin afterwards lets nothing else wait on it.
    let mut stdin = client.stdin.take().ok_or("no stdin pipe to docker")?;
    let _ = stdin.write_all(b"go\n");
    drop(stdin);
    let output = client
        .wait_with_output()
        .map_err(|e| format!("waiting for docker run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "docker run exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(WatchedRun {
        command_line: format!("docker {}", shell_words(&args)),
        host_pid_of_pid1: host_pid,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    })
}
// ANCHOR_END: watched

/// Polls `docker inspect` until container `name` runs and has a PID on the
/// host, within [`START_TIMEOUT`].
fn wait_for_host_pid(name: &str, client: &mut Child) -> Result<i32, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = client.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = client.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return Err(format!(
                "docker run ended early ({status}): {}",
                stderr.trim()
            ));
        }
        let pid = docker_text(&["inspect", "--format", "{{.State.Pid}}", name]);
        if let Ok(pid) = pid.as_deref().unwrap_or("").parse::<i32>() {
            if pid > 0 {
                return Ok(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "container {name} did not start within {} s",
        START_TIMEOUT.as_secs()
    ))
}

/// A container name no other run (of this process or another) uses,
/// starting with the image's name (`orphans`, or `ORPHANS_IMAGE_NAME`) so
/// that two checkouts sharing an engine can tell their containers apart.
pub fn unique_container_name(what: &str) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}-{what}-{}-{run}",
        orphans::image::image_name(),
        std::process::id()
    )
}

/// `args` as a line a POSIX shell would split back into the same words.
pub fn shell_words(args: &[&str]) -> String {
    let quote = |word: &&str| {
        let plain = !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b));
        if plain {
            word.to_string()
        } else {
            format!("'{}'", word.replace('\'', r"'\''"))
        }
    };
    args.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// A container started with `docker run -d`; dropping it removes it.
pub struct Running {
    pub id: String,
}

impl Running {
    /// Starts `args` (a command and its arguments) in `image`, detached.
    pub fn start(image: &str, args: &[&str]) -> Result<Running, String> {
        let name = unique_container_name("running");
        let mut run = RUN.to_vec();
        run.extend(["-d", "--rm", "--name", &name, image]);
        run.extend_from_slice(args);
        docker_text(&run).map(|id| Running { id })
    }

    /// The host PID of the container's PID 1, as the engine reports it.
    pub fn host_pid(&self) -> Result<i32, String> {
        let pid = docker_text(&["inspect", "--format", "{{.State.Pid}}", &self.id])?;
        pid.parse()
            .map_err(|_| format!("docker inspect gave '{pid}', not a PID"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_program_runs_and_exits_0() {
        let program = smallest_program(std::env::consts::ARCH).expect("a known architecture");
        assert_eq!(orphans::image::has_interpreter(&program), Some(false));
        let dir = std::env::temp_dir().join(format!("orphans-exit0-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join("exit0");
        std::fs::write(&path, &program).expect("write it");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let status = Command::new(&path).status();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(status.expect("it starts").success());
        assert_eq!(smallest_program("mips"), None);
    }

    #[test]
    fn shell_words_quotes_only_what_needs_it() {
        assert_eq!(
            shell_words(&["sh", "-c", "read go && exec \"$@\"", "it's"]),
            r#"sh -c 'read go && exec "$@"' 'it'\''s'"#
        );
        assert_eq!(shell_words(&["-v", "/a:/b:ro", ""]), "-v /a:/b:ro ''");
    }
}
