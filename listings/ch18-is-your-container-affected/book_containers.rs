//! The book's own containers, good and bad, that chapter 18 gives the
//! doctor: the patterns of chapters 8 to 13, each started from the
//! project's image (chapter 5) and left running until the doctor has
//! looked. `doctor-table` shows them; `tests/pid1_doctor.rs` checks the
//! doctor's verdict on each.

use std::time::{Duration, Instant};

use orphans::containers::engine::{unique_name, Container, Engine};

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

/// `list` as owned words.
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
            "`--init` (chapter 11)",
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

/// Where `app` notes that it is ready, inside the container.
const JOURNAL: &str = "/journal";

/// Starts `pattern` in a container of `image` (named `IMAGE-PATTERN-…`,
/// removed when dropped) and waits until its `app`, if any, is ready.
pub fn start<'e>(
    engine: &'e Engine,
    image: &str,
    pattern: &Pattern,
) -> Result<Container<'e>, String> {
    let name = unique_name(pattern.name);
    let journal = format!("{}={JOURNAL}", orphans::namespace::journal::VARIABLE);
    let mut args = engine.run_args(&name);
    args.extend(["--detach".to_string(), "--env".into(), journal]);
    args.extend(pattern.options.iter().map(|o| o.to_string()));
    args.push(image.to_string());
    args.extend(pattern.command.iter().cloned());
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = engine.run(&words);
    // Adopted before the answer is looked at: dropping it removes a
    // container that was made but failed to start.
    let container = Container::adopt(engine, name);
    started?;
    if pattern.runs_app {
        wait_for_app(&container)?;
    }
    Ok(container)
}

/// Waits up to 20 s for `ready app` in the container's journal.
fn wait_for_app(container: &Container) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let journal = container.exec(&["cat", JOURNAL]);
        if journal.is_ok_and(|text| text.lines().any(|l| l.starts_with("ready app "))) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "app did not say it was ready in {} within 20 s",
        container.name
    ))
}
