//! `doctor-table`: chapter 18 runs `pid1-doctor` on the book's own
//! containers. Each pattern of chapters 8 to 13 is started from the
//! project's image in Docker; the doctor (the real program, as a reader
//! runs it) looks at it; the table shows what it said; the container is
//! removed.

mod book_containers;

use std::ffi::OsString;
use std::process::Command;

use orphans::capability::{image_or_missing, podman_ready};
use orphans::cli::{self, Request};
use orphans::containers::engine::Engine;
use orphans::missing::{finish, one_line, Missing, NotShown};
use orphans::process::spawn::sibling;
use orphans::table;
use serde_json::Value;

const USAGE: &str = "\
usage: doctor-table [--engine docker|podman] [--orphan-test | --report] [PATTERN...]
       doctor-table --dockerfiles [NAME...]

Starts the book's containers from the project's image (in Docker, or
Podman), runs pid1-doctor on each (its --json report), and prints a
markdown table: the container, PID 1, its init, what PID 1 does with
SIGTERM, the zombies, and the verdict. Every container is removed
afterwards.

Patterns: naive-init, sleep, foster, init, exec-form, shell-form, script
(chapters 8 to 13; default: all of them).

  --engine NAME  docker (default) or podman
  --orphan-test  run the doctor with --orphan-test, and show its outcome
  --report       print the doctor's own text report on each pattern, as
                 preformatted text, instead of a table
  --dockerfiles  run `pid1-doctor --dockerfile` on each Dockerfile of the
                 chapter's corpus (dockerfiles/NAME/) and print a table:
                 the file, what the doctor found where, its exit status;
                 with NAMEs, the doctor's own text on those, preformatted
  -V, --version  show the version
  -h, --help     show this help

The doctor reads the containers' processes in the host's /proc: it needs
root.";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Show {
    Table,
    OrphanTest,
    Report,
    Dockerfiles,
}

#[derive(Debug, PartialEq)]
struct Options {
    show: Show,
    podman: bool,
    patterns: Vec<String>,
}

fn main() {
    let options = cli::options_or_exit("doctor-table", USAGE, parse);
    let what = match options.show {
        Show::Report => "The doctor's report",
        _ => "This table",
    };
    let shown = match options.show {
        Show::Dockerfiles if options.patterns.is_empty() => dockerfiles(),
        Show::Dockerfiles => dockerfile_reports(&options.patterns),
        _ => shown(&options),
    };
    finish("doctor-table", what, shown);
}

/// The engine, and the project's image in it, or what is missing.
fn engine_and_image(podman: bool) -> Result<(Engine, String), Missing> {
    if podman {
        let ready = podman_ready()?;
        return Ok((ready.engine, ready.image));
    }
    Ok((Engine::docker(), image_or_missing()?.reference))
}

/// The table (or reports), or why there is none.
fn shown(options: &Options) -> Result<(), NotShown> {
    let (engine, image) = engine_and_image(options.podman)?;
    if !nix::unistd::Uid::effective().is_root() {
        return Err(Missing::new(
            "root",
            "the doctor reads the containers' processes in the host's /proc, which are root's",
            "build the book as root",
        )
        .into());
    }
    let program = engine.program();
    match options.show {
        Show::Table => println!("{}", table::header(&TABLE)),
        Show::OrphanTest => println!("{}", table::header(&ORPHAN_TABLE)),
        Show::Report | Show::Dockerfiles => {}
    }
    for name in &options.patterns {
        let pattern = book_containers::pattern(name).ok_or(format!("no pattern {name}"))?;
        let running = book_containers::start(&engine, &image, &pattern)?;
        eprintln!(
            "doctor-table: pid1-doctor on {} ({})",
            running.name, pattern.name
        );
        match options.show {
            Show::Report => {
                let text = doctor(&["--engine", program, &running.name])?;
                println!(
                    "```text\n{}\n```\n",
                    text.trim_end().replace(&running.name, pattern.name)
                );
            }
            show => {
                let mut args = vec!["--engine", program, "--json", &running.name];
                if show == Show::OrphanTest {
                    args.insert(0, "--orphan-test");
                }
                let reports: Value = serde_json::from_str(&doctor(&args)?)
                    .map_err(|e| format!("pid1-doctor's JSON: {e}"))?;
                println!("{}", row(pattern.label, &reports[0], show));
            }
        }
    }
    Ok(())
}

/// The corpus of Dockerfiles, beside this program's source.
const CORPUS: &str = "listings/ch18-is-your-container-affected/dockerfiles";

/// `pid1-doctor --dockerfile` on each Dockerfile of the corpus, run from
/// the chapter's folder so that it names them `dockerfiles/NAME/…`.
fn dockerfiles() -> Result<(), NotShown> {
    let corpus = orphans::workspace::project_dir().join(CORPUS);
    let mut names: Vec<String> = std::fs::read_dir(&corpus)
        .map_err(|e| format!("reading {CORPUS}: {e}"))?
        .filter_map(|entry| Some(entry.ok()?.file_name().to_str()?.to_string()))
        .collect();
    names.sort();
    let headings = [
        "Dockerfile",
        "what the doctor says, and where",
        "exit status",
    ];
    println!("{}", table::header(&headings));
    for name in names {
        let output = doctor_on_dockerfile(&name, true)?;
        let status = output
            .status
            .code()
            .map_or("?".into(), |code| code.to_string());
        let said = match serde_json::from_slice::<Value>(&output.stdout) {
            Ok(report) => findings(&report),
            Err(_) => format!("*{}*", one_line(&String::from_utf8_lossy(&output.stderr))),
        };
        println!("{}", table::row(&[format!("`{name}`"), said, status]));
    }
    Ok(())
}

/// `pid1-doctor [--json] --dockerfile dockerfiles/NAME/Dockerfile`, run in
/// the chapter's folder.
fn doctor_on_dockerfile(name: &str, json: bool) -> Result<std::process::Output, String> {
    let folder = orphans::workspace::project_dir().join(CORPUS).join("..");
    let mut command = Command::new(sibling("pid1-doctor"));
    if json {
        command.arg("--json");
    }
    command
        .arg("--dockerfile")
        .arg(format!("dockerfiles/{name}/Dockerfile"))
        .current_dir(folder)
        .output()
        .map_err(|e| format!("cannot run pid1-doctor: {e}"))
}

/// The doctor's own text on the Dockerfiles `names`, each preformatted
/// (its error line too, for one that does not parse).
fn dockerfile_reports(names: &[String]) -> Result<(), NotShown> {
    for name in names {
        let output = doctor_on_dockerfile(name, false)?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        println!("```text\n{}\n```\n", text.trim_end());
    }
    Ok(())
}

/// The findings of a `--dockerfile --json` report, as `rule` (`FILE:LINE`)
/// items, or `fine`.
fn findings(report: &Value) -> String {
    let items: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let file = f["file"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("");
            format!(
                "{} (`{file}:{}`)",
                f["rule"].as_str().unwrap_or("?"),
                f["line"]
            )
        })
        .collect();
    if items.is_empty() {
        "fine".into()
    } else {
        items.join(", ")
    }
}

const TABLE: [&str; 6] = [
    "container",
    "PID 1",
    "init",
    "SIGTERM at PID 1",
    "zombies now",
    "verdict",
];
const ORPHAN_TABLE: [&str; 5] = [
    "container",
    "PID 1",
    "zombies now",
    "the doctor's test orphan",
    "verdict",
];

/// Runs `pid1-doctor ARGS` and returns what it printed; a status of 2 (it
/// could not read the container) is an error, with its one line.
fn doctor(args: &[&str]) -> Result<String, String> {
    let output = Command::new(sibling("pid1-doctor"))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run pid1-doctor: {e}"))?;
    match output.status.code() {
        Some(0 | 1) => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        _ => Err(one_line(&String::from_utf8_lossy(&output.stderr))),
    }
}

/// One row, from the doctor's JSON report.
fn row(label: &str, report: &Value, show: Show) -> String {
    let text = |value: &Value| value.as_str().unwrap_or("?").to_string();
    let zombies = match report["zombies"].as_array().map_or(0, Vec::len) {
        0 => "none".to_string(),
        n => format!("{n}, of PID {}", report["zombies"][0]["parent"]),
    };
    let chapters: Vec<String> = report["chapters"].as_array().map_or(Vec::new(), |list| {
        list.iter().map(Value::to_string).collect()
    });
    let verdict = match chapters.as_slice() {
        [] => text(&report["summary"]),
        [one] => format!("{} (chapter {one})", text(&report["summary"])),
        [first @ .., last] => format!(
            "{} (chapters {} and {last})",
            text(&report["summary"]),
            first.join(", ")
        ),
    };
    let pid1 = format!("`{}`", text(&report["pid1"]["comm"]));
    match show {
        Show::OrphanTest => {
            let test = &report["orphan_test"];
            let outcome = if test["reaped"] == true {
                format!("reaped within {} ms", test["milliseconds"])
            } else {
                format!("still a zombie after {} ms", test["milliseconds"])
            };
            table::row(&[label, &pid1, &zombies, &outcome, &verdict])
        }
        _ => {
            let init = report["init"]["name"].as_str().unwrap_or("none");
            let sigterm = text(&report["stop_disposition"]);
            table::row(&[label, &pid1, init, &sigterm, &zombies, &verdict])
        }
    }
}

/// The options of a command line, or why it cannot be understood.
fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        show: Show::Table,
        podman: false,
        patterns: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("orphan-test") => options.show = Show::OrphanTest,
            Long("report") => options.show = Show::Report,
            Long("dockerfiles") => options.show = Show::Dockerfiles,
            Long("engine") => match cli::text(parser.value())?.as_str() {
                "docker" => options.podman = false,
                "podman" => options.podman = true,
                other => return Err(format!("--engine takes docker or podman, not '{other}'")),
            },
            Value(name) => options.patterns.push(name.to_string_lossy().into_owned()),
            other => return cli::other(other),
        }
    }
    if options.show == Show::Dockerfiles {
        let corpus = orphans::workspace::project_dir().join(CORPUS);
        if let Some(name) = options.patterns.iter().find(|n| !corpus.join(n).is_dir()) {
            return Err(format!("no Dockerfile '{name}' in the corpus"));
        }
        return Ok(Request::Run(options));
    }
    if let Some(name) = options
        .patterns
        .iter()
        .find(|n| book_containers::pattern(n).is_none())
    {
        return Err(format!("no pattern '{name}'"));
    }
    if options.patterns.is_empty() {
        options.patterns = book_containers::patterns()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
    }
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn patterns_and_what_to_show() {
        assert_eq!(
            options(parse, &[]).patterns.len(),
            book_containers::patterns().len()
        );
        let chosen = options(parse, &["--orphan-test", "sleep", "foster"]);
        assert_eq!(chosen.show, Show::OrphanTest);
        assert_eq!(chosen.patterns, vec!["sleep", "foster"]);
        help_and_version(parse);
        assert!(refusal(parse, &["nginx"]).contains("no pattern"));
        assert!(options(parse, &["--engine", "podman", "init"]).podman);
        assert!(refusal(parse, &["--engine", "lxc"]).contains("docker or podman"));
        assert!(options(parse, &["--dockerfiles", "shell-form"]).show == Show::Dockerfiles);
        assert!(refusal(parse, &["--dockerfiles", "nginx"]).contains("no Dockerfile"));
    }
}
