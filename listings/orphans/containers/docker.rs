//! Docker: which engine answers, whether it can really run a container,
//! and a run of a command in a container while the host looks at its
//! PID 1 (chapter 5).
//!
//! The `docker` command is used rather than the engine's HTTP API so that
//! every step is a command a reader can type (see `orphans::containers::engine`).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use orphans::containers::engine::{unique_name, Container, Engine};
use orphans::missing::one_line;

/// How long a container may take to start before we give up on it.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The engine the `docker` command talks to, as `docker info` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    pub version: String,
    /// The engine's ID, which stays the same across its restarts.
    pub id: String,
}

/// Which engine answers, or why none does.
pub fn engine_info() -> Result<EngineInfo, String> {
    let answer = Engine::docker()
        .run_within(
            &["info", "--format", "{{.ServerVersion}} {{.ID}}"],
            START_TIMEOUT,
        )
        .map_err(|e| format!("no Docker engine answers ({e})"))?;
    let (version, id) = answer.split_once(' ').unwrap_or((&answer, ""));
    if version.is_empty() {
        return Err("no Docker engine answers (docker info names no server)".into());
    }
    Ok(EngineInfo {
        version: version.to_string(),
        id: id.to_string(),
    })
}

/// The engine's version (`docker info`), or why no engine answers.
pub fn engine_version() -> Result<String, String> {
    engine_info().map(|engine| engine.version)
}

/// The image of [`can_run_containers`]: one file, the smallest program
/// there is (it only calls exit_group(0)), `FROM scratch`.
pub const CHECK_IMAGE: &str = "orphans-check:1";

/// Whether the engine can really run a container, which `docker info`
/// does not tell: it may answer and still fail every `docker run` (an
/// engine whose default bridge is missing, a runtime that cannot start).
/// Runs [`CHECK_IMAGE`], and if that fails for want of the image, builds
/// it (in `work`) and runs it again. `Err` holds the engine's complaint
/// about the run, in one line.
pub fn can_run_containers(work: &Path) -> Result<(), String> {
    let docker = Engine::docker();
    let run = || {
        docker
            .run_container("check", &["--pull", "never", CHECK_IMAGE], START_TIMEOUT)
            .map(drop)
            .map_err(|e| one_line(&format!("`docker run --network none` failed: {e}")))
    };
    let first = run();
    if first.is_ok() || docker.image_id(CHECK_IMAGE).is_some() {
        return first;
    }
    // The image was missing. Whatever stops the engine from building it
    // (if anything does), the failed run is what says it cannot run
    // containers.
    match build_check_image(&docker, work) {
        Ok(()) => run(),
        Err(_) => first,
    }
}

/// Builds [`CHECK_IMAGE`] from a context in `work`.
fn build_check_image(docker: &Engine, work: &Path) -> Result<(), String> {
    let program = orphans::elf::smallest_program(std::env::consts::ARCH).ok_or_else(|| {
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
    docker
        .run_within(
            &["build", "--quiet", "--tag", CHECK_IMAGE, &context],
            Duration::from_secs(120),
        )
        .map(drop)
        .map_err(|e| one_line(&format!("`docker build` of the check image failed: {e}")))
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
    let docker = Engine::docker();
    let name = unique_name("watched");
    // What a reader would type, one line per part; the name, different on
    // every run, is ours and stays out of what the page shows.
    let start = ["run", "-i", "--rm"];
    let create: Vec<&str> = docker.create_options.iter().map(String::as_str).collect();
    let shell = [image, "/bin/sh", "-c", "read go && exec \"$@\"", "sh"];
    let parts = [&start[..], &create, options, &shell, command];
    let mut args = vec!["run", "--name", &name];
    args.extend(parts.concat().into_iter().skip(1));
    let mut client = docker
        .command(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    // Removed when this ends, whatever happens: `--rm` may not get to it.
    let container = Container::adopt(&docker, name.clone());
    let host_pid = match started(&container, &mut client) {
        Ok(pid) => pid,
        Err(e) => {
            let _ = client.kill();
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
            one_line(&String::from_utf8_lossy(&output.stderr))
        ));
    }
    Ok(WatchedRun {
        command_line: format!("docker {}", shell_lines(&parts)),
        host_pid_of_pid1: host_pid,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    })
}
// ANCHOR_END: watched

/// The host PID of `container`'s PID 1 once it runs, within
/// [`START_TIMEOUT`]; `Err` if `client` (its `docker run`) ends first.
fn started(container: &Container, client: &mut Child) -> Result<i32, String> {
    let ran_or_ended =
        orphans::process::deadline::poll_until(START_TIMEOUT, Duration::from_millis(50), || {
            if let Ok(Some(status)) = client.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = client.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                let why = format!("docker run ended early ({status}): {}", one_line(&stderr));
                return Some(Err(why));
            }
            container.host_pid().ok().filter(|pid| *pid > 0).map(Ok)
        });
    ran_or_ended.unwrap_or_else(|| {
        Err(format!(
            "container {} did not start within {} s",
            container.name,
            START_TIMEOUT.as_secs()
        ))
    })
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

/// The non-empty `parts` as shell words, one part a line, each line but
/// the last ended by ` \` (the shell joins them back into one command) and
/// the lines after the first indented: a long command that fits a page.
pub fn shell_lines(parts: &[&[&str]]) -> String {
    let lines: Vec<String> = parts
        .iter()
        .filter(|part| !part.is_empty())
        .map(|part| shell_words(part))
        .collect();
    lines.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_lines_continues_each_part_on_a_new_line() {
        let parts: [&[&str]; 3] = [&["run", "--rm"], &[], &["sh", "-c", "echo hi"]];
        assert_eq!(shell_lines(&parts), "run --rm \\\n  sh -c 'echo hi'");
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
