//! `pid1-table`: who becomes PID 1 when an image starts its application in
//! one of the common ways, and what follows for zombies and for
//! `docker stop`. Chapter 13 runs it (and chapter 9 its `--traps` table).
//!
//! Every row starts `app` (this chapter's application: it leaves orphans,
//! then waits for SIGTERM) the way an image would, as PID 1 of a new PID
//! namespace or of a Docker container, and stops it the way `docker stop`
//! does (`orphans::namespace::stop`, chapter 9).

use std::ffi::OsString;
use std::time::Duration;

use orphans::capability::{self, image_or_missing};
use orphans::cli::{self, bounds, Request};
use orphans::missing::NotShown;

mod patterns;

use patterns::{
    app_args, run, Pattern, Place, Scripts, Shell, Start, HOST_SHELLS, IMAGE_SHELL, PATTERNS,
};

const USAGE: &str = "\
usage: pid1-table [--docker | --traps] [--grace SECONDS]

Starts chapter 13's `app` in the ways images do (exec form, shell form,
entrypoint scripts with and without exec, scripts with traps), each as
PID 1 of a new PID namespace under the host's dash, bash and busybox sh,
and prints a markdown table: who PID 1 is, how many of app's orphans are
left as zombies, whether SIGTERM reached app, and how the stop went.

  --docker         the same patterns in Docker containers of the book's
                   image (its /bin/sh is busybox), stopped by `docker stop`
  --traps          chapter 9's table instead: a script that traps SIGTERM
                   with `exit 143`, its command in the foreground or
                   started with `&` and `wait`
  --grace SECONDS  time between SIGTERM and SIGKILL (default 2, at most 30;
                   with --docker at least 1)
  -V, --version    show the version
  -h, --help       show this help";

/// What each row asks of `app`.
const ORPHANS: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Table {
    Namespaces,
    Docker,
    Traps,
}

#[derive(Debug, PartialEq)]
struct Options {
    table: Table,
    grace: Duration,
}

fn main() {
    let options = cli::options_or_exit("pid1-table", USAGE, parse);
    // A component this machine lacks makes one line instead of the table;
    // a measurement that goes wrong is an error (on stderr, exit status 1).
    let shown = match options.table {
        Table::Namespaces => namespace_table(&options),
        Table::Docker => docker_table(&options),
        Table::Traps => traps_table(&options),
    };
    orphans::missing::finish("pid1-table", "This table", shown);
}

/// Chapter 13's table without Docker, and a sentence on this machine's
/// dash.
fn namespace_table(options: &Options) -> Result<(), NotShown> {
    let mut dash_pid1 = None;
    with_host_shells(HEADER, |place, shell| {
        for pattern in &PATTERNS {
            // The exec form has no shell: one row is enough.
            if matches!(pattern.start, Start::ExecForm) && shell.name != "dash" {
                continue;
            }
            let row = measure(place, shell, pattern, &app_args(ORPHANS, 30), options)?;
            println!("{}", row.text);
            if shell.name == "dash" && matches!(pattern.start, Start::ShellForm) {
                dash_pid1 = Some(row.pid1);
            }
        }
        Ok(())
    })?;
    if let Some(pid1) = dash_pid1 {
        println!(
            "
{}",
            dash_verdict(&pid1)
        );
    }
    Ok(())
}

/// What the shell form's row says about this machine's dash: whether
/// `dash -c` ran its last command in a child (Debian's and Ubuntu's patch)
/// or replaced itself with it (upstream dash).
fn dash_verdict(pid1: &str) -> String {
    match pid1 {
        "dash" => "This machine's dash forks for the last command of `sh -c` and stays \
                   PID 1: it is a dash patched as Debian and Ubuntu patch theirs."
            .into(),
        "app" => "This machine's dash replaces itself with the last command of `sh -c`, \
                  as upstream dash does: `app` is PID 1."
            .into(),
        other => format!("Under this machine's dash, PID 1 of the shell form is `{other}`."),
    }
}

/// Prints `header`, then the rows that `rows` prints for each of the
/// host's shells, each run as PID 1 of a new namespace; a shell this
/// machine lacks gets one line after the table instead of its rows.
fn with_host_shells(
    header: &str,
    mut rows: impl FnMut(&Place, &Shell) -> Result<(), String>,
) -> Result<(), NotShown> {
    capability::namespaces()?;
    let scripts = Scripts::new()?;
    let place = Place::Namespace {
        scripts: &scripts.dir,
    };
    println!("{header}");
    let mut missing = Vec::new();
    for shell in &HOST_SHELLS {
        match capability::program(shell.command[0], shell.package) {
            Ok(()) => rows(&place, shell)?,
            Err(m) => missing.push(m.line(&format!("The rows for {}", shell.name))),
        }
    }
    for line in missing {
        println!("\n{line}");
    }
    Ok(())
}

/// Chapter 13's table in Docker containers of the project's image.
fn docker_table(options: &Options) -> Result<(), NotShown> {
    let image = image_or_missing()?.reference;
    let place = Place::Docker { image: &image };
    println!("{HEADER}");
    for pattern in &PATTERNS {
        let row = measure(
            &place,
            &IMAGE_SHELL,
            pattern,
            &app_args(ORPHANS, 30),
            options,
        )?;
        println!("{}", row.text);
    }
    Ok(())
}

/// How long `app` stays busy in chapter 9's table, in seconds.
const TRAP_LIFETIME: u32 = 3;

/// Chapter 9's table: a trap for SIGTERM, and a command busy for
/// [`TRAP_LIFETIME`]; then the verdict, from the rows.
fn traps_table(options: &Options) -> Result<(), NotShown> {
    let header =
        "| script (PID 1) | shell | gone after SIGTERM | PID 1's exit status |\n|---|---|---|---|";
    // (the command in the foreground?, seconds from SIGTERM to the end)
    let mut stops: Vec<(bool, f64)> = Vec::new();
    with_host_shells(header, |place, shell| {
        for (foreground, pattern) in [(true, &PATTERNS[4]), (false, &PATTERNS[5])] {
            let outcome = run(
                place,
                shell,
                pattern.start,
                &app_args(0, TRAP_LIFETIME),
                options.grace,
            )?;
            println!(
                "| {} | {} | {} | {} |",
                pattern.label,
                shell.name,
                outcome.took_cell(options.grace),
                outcome.status
            );
            stops.push((foreground, outcome.took.as_secs_f64()));
        }
        Ok(())
    })?;
    if !stops.is_empty() {
        println!("\n{}", traps_verdict(&stops));
    }
    Ok(())
}

/// What the trap table's rows say: the slowest and the fastest stop of
/// each way of writing the script. `stops` holds both ways (each host
/// shell runs both).
fn traps_verdict(stops: &[(bool, f64)]) -> String {
    // The fastest stop, and the span of the stops ("3.00 s", "0.00 to 0.01 s").
    let range = |foreground: bool| {
        let times = stops.iter().filter(|s| s.0 == foreground).map(|s| s.1);
        let low = times.clone().fold(f64::INFINITY, f64::min);
        let high = times.fold(0.0, f64::max);
        let span = if format!("{low:.2}") == format!("{high:.2}") {
            format!("{low:.2} s")
        } else {
            format!("{low:.2} to {high:.2} s")
        };
        (low, span)
    };
    let ((fg_low, fg_span), (_, bg_span)) = (range(true), range(false));
    let busy = f64::from(TRAP_LIFETIME);
    let waited = if fg_low > busy / 2.0 {
        "each shell ran its trap only once `app` had finished"
    } else {
        "some shell ran its trap before `app` had finished"
    };
    format!(
        "With the command in the foreground, PID 1 was gone {fg_span} after SIGTERM \
         ({waited}; `app` stays busy for {busy} s); with `&` and `wait`, {bg_span} after it."
    )
}

/// The header of chapter 13's tables.
const HEADER: &str = "| how the image starts `app` | shell | PID 1 | zombies left | SIGTERM reached `app` | stop | PID 1's exit status |\n|---|---|---|---|---|---|---|";

/// A row of the table, and the name of the PID 1 it found.
struct Row {
    text: String,
    pid1: String,
}

/// Runs one row and formats it.
fn measure(
    place: &Place,
    shell: &Shell,
    pattern: &Pattern,
    app: &[String],
    options: &Options,
) -> Result<Row, String> {
    let outcome = run(place, shell, pattern.start, app, options.grace)?;
    // Every orphan has exited before `app` says it is ready, so any process
    // still named `orphan` is a zombie nobody reaped.
    let zombies = outcome.running.iter().filter(|n| *n == "orphan").count();
    let shell_name = match pattern.start {
        Start::ExecForm => "none",
        _ => shell.name,
    };
    let heard = outcome.heard_sigterm.iter().any(|(name, _)| name == "app");
    let pid1 = outcome.running.first().map_or("?", String::as_str);
    let text = format!(
        "| {} | {shell_name} | `{pid1}` | {zombies} of {ORPHANS} | {} | {} | {} |",
        pattern.label,
        if heard { "yes" } else { "no" },
        outcome.took_cell(options.grace),
        outcome.status
    );
    Ok(Row {
        text,
        pid1: pid1.to_string(),
    })
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        table: Table::Namespaces,
        grace: Duration::from_secs(2),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("docker") => options.table = Table::Docker,
            Long("traps") => options.table = Table::Traps,
            Long("grace") => options.grace = bounds::seconds(parser.value(), 30.0)?,
            other => return cli::other(other),
        }
    }
    if options.table == Table::Docker {
        bounds::docker_grace(options.grace)?;
    }
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn a_table_and_a_grace() {
        for (args, table, grace) in [
            (&[][..], Table::Namespaces, 2),
            (&["--traps", "--grace", "5"], Table::Traps, 5),
            (&["--docker", "--grace", "1"], Table::Docker, 1),
        ] {
            let grace = Duration::from_secs(grace);
            assert_eq!(options(parse, args), Options { table, grace }, "{args:?}");
        }
        help_and_version(parse);
        for (args, reason) in [
            (&["--grace", "31"][..], "seconds"),
            (&["--docker", "--grace", "0.5"], "whole seconds"),
            (&["--kill"], "--kill"),
            (&["extra"], "unexpected"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }

    #[test]
    fn the_dash_verdict_follows_the_row() {
        assert!(dash_verdict("dash").contains("forks"));
        assert!(dash_verdict("app").contains("upstream"));
        assert!(dash_verdict("sh").contains("`sh`"));
    }
}
