//! `experiment`: one experiment of the book, as a chapter's `cmdrun` line
//! runs it. Every such line goes through this program, so that they all
//! find the book's programs the same way (through cargo, wherever
//! `CARGO_TARGET_DIR` is), say in one line what this machine cannot run,
//! report progress to the terminal of the book's build, and are not run
//! again when nothing they depend on changed.

mod memory;
mod options;
mod programs;
mod progress;
mod run;

use std::time::{Duration, Instant};

use orphans::capability::{Component, COMPONENTS};
use orphans::cli::{self, fail};
use orphans::missing::{failed_line, line_for, Missing, NOT_RUN};

use memory::Memory;
use options::{parse, Mode, Options, USAGE};
use progress::Progress;
use run::{build_the_books_programs, missing_components, provide, run_command};

fn main() {
    let mode = cli::options_or_exit("experiment", USAGE, parse);
    let progress = Progress::to_build_log();
    match mode {
        Mode::Check { require } => check(&require),
        Mode::Run(options) => run_experiment(&options, progress),
    }
}

/// Runs the experiment, or recalls its output, or says why it cannot run,
/// and prints the page's part on stdout.
fn run_experiment(options: &Options, mut progress: Progress) {
    progress.label = format!("chapter {}, {}", options.chapter, options.what);
    if options.build && !build_the_books_programs(&mut progress) {
        let why = "the book's programs do not build (`cargo build --bins --examples` failed)";
        print_page(&failed_line(&options.what, why));
        return;
    }
    let memory = Memory::new(options);
    if std::env::var("ORPHANS_RERUN").as_deref() != Ok("1") {
        if let Some((page, age)) = memory.recall() {
            progress.say(&format!("reused the output of a run {} ago", minutes(age)));
            print_page(&page);
            return;
        }
    }
    progress.say("started");
    let started = Instant::now();
    let missing = missing_components(&options.needs);
    if !missing.is_empty() {
        progress.say(&format!("not run: it needs {}", names(&missing)));
        print_page(&line_for(&options.what, &missing));
        return;
    }
    let provided = match provide(options, &mut progress) {
        Ok(provided) => provided,
        Err(why) => {
            progress.say(&format!("failed: {why}"));
            print_page(&failed_line(&options.what, &why));
            return;
        }
    };
    let ran = run_command(options, &provided.environment, &mut progress);
    let seconds = started.elapsed().as_secs_f64();
    let mut page = if options.text && !ran.stdout.trim().is_empty() {
        format!("```text\n{}\n```\n", ran.stdout.trim_end_matches('\n'))
    } else {
        ran.stdout.clone()
    };
    match &ran.failure {
        None => {
            progress.say(&format!("done in {seconds:.1} s"));
            page = with_notes(&page, &provided.notes);
            if !ran.stdout.contains(NOT_RUN) {
                memory.store(&page);
            }
        }
        Some(failure) => {
            progress.say(&format!("failed after {seconds:.1} s: {failure}"));
            page = with_line(&page, &failed_line(&options.what, failure));
            page = with_notes(&page, &provided.notes);
        }
    }
    print_page(&page);
}

/// Prints `page`, ending it with exactly one newline.
fn print_page(page: &str) {
    println!("{}", page.trim_end_matches('\n'));
}

/// `page` followed by each of `notes`, each a paragraph of its own.
fn with_notes(page: &str, notes: &[String]) -> String {
    notes
        .iter()
        .fold(page.to_string(), |page, note| with_line(&page, note))
}

/// `page` followed by `line` as a paragraph of its own.
fn with_line(page: &str, line: &str) -> String {
    if page.trim().is_empty() {
        line.to_string()
    } else {
        format!("{}\n\n{line}", page.trim_end_matches('\n'))
    }
}

fn minutes(age: Duration) -> String {
    match age.as_secs() / 60 {
        0 => "less than a minute".into(),
        1 => "1 minute".into(),
        n => format!("{n} minutes"),
    }
}

fn names(missing: &[Missing]) -> String {
    let names: Vec<&str> = missing.iter().map(|m| m.component.as_str()).collect();
    names.join(", ")
}

/// `--check`: one line per component, and exit 1 if one of `require` is
/// missing.
fn check(require: &[Component]) {
    let mut required_but_missing = Vec::new();
    for (name, component, buys) in COMPONENTS {
        let missing = component.missing();
        if missing.is_empty() {
            println!("{name}: yes ({buys})");
            continue;
        }
        for part in &missing {
            println!("{name}: no ({buys}): {part}");
        }
        if require.contains(&component) {
            required_but_missing.push(name);
        }
    }
    if !required_but_missing.is_empty() {
        fail(
            "experiment",
            1,
            &format!("required but missing: {}", required_but_missing.join(", ")),
        );
    }
}
