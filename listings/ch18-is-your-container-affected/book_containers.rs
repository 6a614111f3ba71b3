//! The book's own containers, good and bad, that chapter 18 gives the
//! doctor: the patterns of chapters 8 to 13, each started from the
//! project's image (chapter 5) and left running until the doctor has
//! looked. `doctor-table` shows them; `tests/pid1_doctor.rs` checks the
//! doctor's verdict on each.

use std::time::{Duration, Instant};

use orphans::engine::Engine;

/// How a pattern's `app` (chapter 13's application) runs: three orphans
/// left as it starts, then a wait for SIGTERM for up to ten minutes.
const APP: [&str; 5] = ["app", "--orphans", "3", "--lifetime", "600"];

/// Chapter 13's entrypoint script that does not `exec`.
const SCRIPT: &str = "# set things up, then run the command\n\"$@\"\n";

/// One of the book's containers.
pub struct Pattern {
    /// The name a command line gives it.
    pub name: &'static str,
    /// What it is, for a table.
    pub label: &'static str,
    /// Options of `run` (`--init`).
    pub options: &'static [&'static str],
    pub command: Vec<String>,
    /// Whether `app` runs, and the doctor should wait until it is ready.
    pub runs_app: bool,
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

// ANCHOR: patterns
/// The patterns, in the order of the chapters that explain them.
pub fn patterns() -> Vec<Pattern> {
    let app = words(&APP);
    let pattern = |name, label, options, command: Vec<String>, runs_app| Pattern {
        name,
        label,
        options,
        command,
        runs_app,
    };
    vec![
        pattern(
            "naive-init",
            "`naive-init app` (chapter 8)",
            &[],
            [words(&["naive-init"]), app.clone()].concat(),
            true,
        ),
        pattern(
            "sleep",
            "`sleep` as PID 1 (chapter 9)",
            &[],
            words(&["sleep", "600"]),
            false,
        ),
        pattern(
            "foster",
            "`foster -- app` (chapter 10)",
            &[],
            [words(&["foster", "--"]), app.clone()].concat(),
            true,
        ),
        pattern(
            "init",
            "`docker run --init` (chapter 11)",
            &["--init"],
            app.clone(),
            true,
        ),
        pattern(
            "exec-form",
            "exec form, `CMD [\"app\"]` (chapter 13)",
            &[],
            app.clone(),
            true,
        ),
        pattern(
            "shell-form",
            "shell form, `CMD app` (chapter 13)",
            &[],
            words(&["/bin/sh", "-c", &APP.join(" ")]),
            true,
        ),
        pattern(
            "script",
            "script ending in `\"$@\"` (chapter 13)",
            &[],
            script_command(&app),
            true,
        ),
    ]
}
// ANCHOR_END: patterns

/// A shell that writes [`SCRIPT`] to `/entrypoint.sh` and becomes `/bin/sh
/// /entrypoint.sh APP...`: what the kernel makes of `ENTRYPOINT
/// ["/entrypoint.sh"]` (as chapter 13's table does).
fn script_command(app: &[String]) -> Vec<String> {
    let mut command = words(&[
        "/bin/sh",
        "-c",
        "printf '%s' \"$1\" > /entrypoint.sh && shift && exec /bin/sh /entrypoint.sh \"$@\"",
        "sh",
        SCRIPT,
    ]);
    command.extend(app.iter().cloned());
    command
}

/// The pattern called `name`.
pub fn pattern(name: &str) -> Option<Pattern> {
    patterns().into_iter().find(|p| p.name == name)
}

/// A running container of a pattern, removed when dropped.
pub struct Running<'e> {
    engine: &'e Engine,
    pub name: String,
}

/// Where `app` notes that it is ready, inside the container.
const JOURNAL: &str = "/journal";

/// Starts `pattern` in a container of `image`, named `NAME-PATTERN-…`,
/// and waits until its `app` (if any) is ready.
pub fn start<'e>(
    engine: &'e Engine,
    image: &str,
    pattern: &Pattern,
) -> Result<Running<'e>, String> {
    let name = orphans::docker::unique_container_name(pattern.name);
    let journal = format!("{}={JOURNAL}", orphans::journal::VARIABLE);
    let mut args = vec!["run", "--detach", "--name", &name, "--env", &journal];
    args.extend(engine.create_options.iter().map(String::as_str));
    args.extend(pattern.options);
    args.push(image);
    args.extend(pattern.command.iter().map(String::as_str));
    let started = engine.run(&args).map(|_| Running {
        engine,
        name: name.clone(),
    });
    if started.is_err() {
        let _ = engine.run(&["rm", "--force", &name]);
    }
    let running = started?;
    if pattern.runs_app {
        running.wait_for_app()?;
    }
    Ok(running)
}

impl Running<'_> {
    /// Waits up to 20 s for `ready app` in the container's journal.
    fn wait_for_app(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let journal = self.engine.run(&["exec", &self.name, "cat", JOURNAL]);
            if journal.is_ok_and(|text| text.lines().any(|l| l.starts_with("ready app "))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "app did not say it was ready in {} within 20 s",
            self.name
        ))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let _ = self.engine.run(&["rm", "--force", &self.name]);
    }
}
