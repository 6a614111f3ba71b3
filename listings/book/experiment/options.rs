//! `experiment`'s command line.

use std::ffi::OsString;
use std::time::Duration;

use orphans::capability::Component;
use orphans::cli::{self, bounds, Request};

pub const USAGE: &str = "\
usage: experiment --chapter N --what TEXT [--needs NAMES] [--wants NAMES]
                  [--text] [--timeout SECONDS] [--no-build] [--] COMMAND [ARGS...]
       experiment --check [--require NAMES]

Runs one experiment of the book and prints, on stdout, what the page shows.

Unless its output is remembered (see below), first builds the book's
programs (cargo build --bins --examples), then runs COMMAND with them first
on $PATH, in the current directory.

  --chapter N        the chapter, for progress lines
  --what TEXT        what the experiment shows, as a page names it (\"The
                     probe under Docker\"): the subject of any one-line note
  --needs NAMES      components COMMAND cannot run without (comma-separated,
                     see below): if one is missing, COMMAND is not run and
                     the page gets one line: what, why, and how to get it
  --wants NAMES      components COMMAND is better with: it runs anyway, and
                     that line follows its output
  --text             show COMMAND's output as preformatted text (a ```text
                     block); the one-line notes stay outside it
  --timeout SECONDS  stop COMMAND (and all it started) after this long
                     (default 300, at most 3600); its output so far and one
                     line saying so make the page
  --no-build         do not build first (the programs are built already)
  --check            print what this machine can run, component by component
  --require NAMES    with --check: exit 1 if one of these is missing
  -V, --version      show the version
  -h, --help         show this help

Components: namespaces (PID namespaces), docker (an engine that can run
containers), busybox (static, for the image), image (the project's image,
built if needed; its name in $ORPHANS_IMAGE), musl (the musl target),
static-foster (foster's static build, made if the musl target is there,
else the debug build; its path in $ORPHANS_FOSTER), peer-inits (tini,
tini-static, dumb-init, catatonit), browser (Chromium and chromedriver),
podman (Podman answers), runtimes (chapter 17's language runtimes: never
missing, since each missing one is a row, but an installed or upgraded one
is measured again).

A COMMAND that fails never fails the book: its output so far and one line
saying so make the page, and the exit status is 0 (2 for bad arguments).

The output of a run that succeeded is remembered in the target directory
(orphans-cache/experiments): the same command, with the same sources of
the book's programs it uses (and the same Cargo.lock and compiler), on the
same machine, prints it again without running COMMAND. ORPHANS_RERUN=1 runs every experiment again. Outputs that say
something was not run are never remembered.

Progress (start, end, seconds; cargo's and COMMAND's stderr) goes to the
terminal of the book's build: mdbook-cmdrun keeps its commands' stderr to
itself, so this program writes to mdbook-cmdrun's own stderr when it runs
below it, else to its own.";

pub struct Options {
    pub chapter: String,
    pub what: String,
    pub needs: Vec<Component>,
    pub wants: Vec<Component>,
    /// Show the output in a ```text block.
    pub text: bool,
    pub timeout: Duration,
    pub build: bool,
    pub command: Vec<OsString>,
}

pub enum Mode {
    Run(Options),
    Check { require: Vec<Component> },
}

pub fn parse(args: Vec<OsString>) -> Result<Request<Mode>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        chapter: String::new(),
        what: String::new(),
        needs: Vec::new(),
        wants: Vec::new(),
        text: false,
        timeout: Duration::from_secs(300),
        build: true,
        command: Vec::new(),
    };
    let mut check = false;
    let mut require = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("chapter") => options.chapter = cli::text(parser.value())?,
            Long("what") => options.what = cli::text(parser.value())?,
            Long("needs") => options.needs = Component::parse_list(&cli::text(parser.value())?)?,
            Long("wants") => options.wants = Component::parse_list(&cli::text(parser.value())?)?,
            Long("timeout") => options.timeout = bounds::seconds(parser.value(), 3600.0)?,
            Long("text") => options.text = true,
            Long("no-build") => options.build = false,
            Long("check") => check = true,
            Long("require") => require = Component::parse_list(&cli::text(parser.value())?)?,
            Value(first) => {
                options.command = cli::command_from(first, &mut parser)?;
                break;
            }
            other => return cli::other(other),
        }
    }
    if check {
        return Ok(Request::Run(Mode::Check { require }));
    }
    options.command = cli::some_command(options.command)?;
    if options.chapter.is_empty() || options.what.is_empty() {
        return Err("--chapter and --what are required".into());
    }
    Ok(Request::Run(Mode::Run(options)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::capability::COMPONENTS;
    use orphans::cli::testing::parse_str;

    #[test]
    fn the_help_names_every_component() {
        for (name, _, _) in COMPONENTS {
            assert!(
                USAGE.contains(&format!("{name} (")),
                "{name} is not in the help"
            );
        }
    }

    fn run_options(args: &[&str]) -> Options {
        match parse_str(parse, args) {
            Ok(Request::Run(Mode::Run(options))) => options,
            other => panic!("{args:?}: {:?}", other.err()),
        }
    }

    #[test]
    fn a_line_of_a_chapter_is_understood() {
        let options = run_options(&[
            "--chapter",
            "8",
            "--what",
            "The table",
            "--needs",
            "namespaces,image",
            "--wants",
            "peer-inits",
            "--text",
            "--timeout",
            "20",
            "--",
            "zombie-table",
            "-n",
            "5",
        ]);
        assert_eq!(options.needs, [Component::Namespaces, Component::Image]);
        assert_eq!(options.wants, [Component::PeerInits]);
        assert!(options.text && options.build);
        assert_eq!(options.timeout, Duration::from_secs(20));
        assert_eq!(options.command, ["zombie-table", "-n", "5"]);
    }

    #[test]
    fn the_commands_own_options_stay_its_own() {
        let options = run_options(&["--chapter", "1", "--what", "x", "probe", "--text"]);
        assert!(!options.text);
        assert_eq!(options.command, ["probe", "--text"]);
    }

    #[test]
    fn bad_lines_are_refused() {
        for args in [
            &["--chapter", "1", "--what", "x"][..],
            &["--what", "x", "true"],
            &[
                "--chapter",
                "1",
                "--what",
                "x",
                "--needs",
                "teleporter",
                "true",
            ],
            &["--chapter", "1", "--what", "x", "--timeout", "9999", "true"],
        ] {
            assert!(parse_str(parse, args).is_err(), "{args:?}");
        }
        assert!(matches!(
            parse_str(parse, &["--check", "--require", "docker"]),
            Ok(Request::Run(Mode::Check { .. }))
        ));
    }
}
