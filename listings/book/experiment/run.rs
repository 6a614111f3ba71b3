//! Running an experiment's COMMAND: building the book's programs first,
//! providing what its components need, and running it within its timeout.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use orphans::capability::Component;
use orphans::missing::{line_for, Missing};
use orphans::process::deadline::{read_in_background, wait_within};
use orphans::process::spawn::{dying_with_us, own_dir, path_with, program_in};
use orphans::toolchain::cargo;
use orphans::workspace::project_dir;

use crate::options::Options;
use crate::progress::Progress;

/// Runs cargo to build every binary and example of the workspace (nothing
/// to do, in a fraction of a second, when they are up to date). Its
/// messages go to the build's log, but for the "Finished" line that every
/// experiment would repeat.
pub fn build_the_books_programs(progress: &mut Progress) -> bool {
    let child = Command::new(cargo())
        .args(["build", "--bins", "--examples"])
        .current_dir(project_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        progress.say("cannot run cargo");
        return false;
    };
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !line.trim_start().starts_with("Finished") {
                progress.raw(&line);
            }
        }
    }
    child.wait().is_ok_and(|status| status.success())
}

/// What a component provides to COMMAND, and the notes of wanted
/// components that are missing.
pub struct Provided {
    pub environment: Vec<(&'static str, OsString)>,
    pub notes: Vec<String>,
}

/// Every component of `needs` that this machine lacks.
pub fn missing_components(needs: &[Component]) -> Vec<Missing> {
    needs.iter().flat_map(|c| c.missing()).collect()
}

/// Prepares what the needed and wanted components provide: the image
/// (built if needed) and foster's static build. `Err` when one that is
/// there cannot be made.
pub fn provide(options: &Options, progress: &mut Progress) -> Result<Provided, String> {
    let mut provided = Provided {
        environment: Vec::new(),
        notes: Vec::new(),
    };
    for &component in options.needs.iter().chain(&options.wants) {
        let missing = component.missing();
        if !missing.is_empty() {
            if component == Component::StaticFoster {
                progress.say("no musl target: the debug build of foster stands in");
                provided
                    .environment
                    .push(("ORPHANS_FOSTER", own_dir().join("foster").into()));
                let what = "Measuring foster's static build (the debug build was measured instead)";
                provided.notes.push(line_for(what, &missing));
            } else {
                provided.notes.push(line_for(&options.what, &missing));
            }
            continue;
        }
        match component {
            Component::Image => {
                progress.say("the project's image (built if needed)");
                let image = orphans::containers::image::ensure_image(&project_dir())?;
                provided
                    .environment
                    .push(("ORPHANS_IMAGE", image.reference.into()));
            }
            Component::StaticFoster => {
                progress.say("foster's static build (built if needed)");
                let foster = orphans::toolchain::build_static_foster()?;
                provided.environment.push(("ORPHANS_FOSTER", foster.into()));
            }
            _ => {}
        }
    }
    Ok(provided)
}

/// What COMMAND did.
pub struct Ran {
    pub stdout: String,
    /// Why it did not succeed, in one line; `None` if it did.
    pub failure: Option<String>,
}

/// Runs COMMAND with the book's programs first on `$PATH`, in a process
/// group of its own, so that a timeout (or its end) stops all it started.
/// Its stderr is copied to the build's log as it comes.
pub fn run_command(
    options: &Options,
    environment: &[(&'static str, OsString)],
    progress: &mut Progress,
) -> Ran {
    let path = book_path();
    let program = program_in(&options.command[0], &path);
    let mut command = Command::new(&program);
    command
        .args(&options.command[1..])
        .env("PATH", &path)
        .envs(environment.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = dying_with_us(&mut command).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            return Ran {
                stdout: String::new(),
                failure: Some(format!("cannot run {}: {e}", program.display())),
            }
        }
    };
    let stdout = read_in_background(child.stdout.take());
    let stderr = copy_in_background(child.stderr.take(), progress.clone_log());
    let ended = wait_within(&mut child, options.timeout);
    // Whatever it left running goes with it (ESRCH if nothing did).
    let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    let stdout = stdout.join().unwrap_or_default();
    let last_words = stderr.join().unwrap_or_default();
    let failure = match ended {
        Some(status) if status.success() => None,
        Some(status) => Some(format!(
            "`{}` ended with {status}{}",
            options.command[0].to_string_lossy(),
            last_words.map(|w| format!(": {w}")).unwrap_or_default()
        )),
        None => Some(format!(
            "it did not finish within {} s and was stopped",
            options.timeout.as_secs()
        )),
    };
    Ran {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        failure,
    }
}

/// Copies each line of `pipe` to `log`, returning the last non-empty one.
fn copy_in_background(
    pipe: Option<impl Read + Send + 'static>,
    mut log: File,
) -> std::thread::JoinHandle<Option<String>> {
    std::thread::spawn(move || {
        let mut last = None;
        let Some(pipe) = pipe else { return last };
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            if !line.trim().is_empty() {
                last = Some(line);
            }
        }
        last
    })
}

/// `$PATH` for COMMAND: the book's programs (cargo's output directory,
/// where this program is too), its examples, then the caller's `$PATH`.
pub fn book_path() -> OsString {
    path_with(vec![own_dir(), own_dir().join("examples")])
}
