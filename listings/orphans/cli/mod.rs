//! One way for every program of the book to read its command line, on the
//! model of foster's `options::parse`: a pure function turns the arguments
//! into a [`Request`] or a message, and [`options_or_exit`] does what every
//! program does with that: show the help or the version, or say what is
//! wrong, show how to call it, and exit with a status a script can test.
//!
//! A program's `parse` reads nothing but its arguments, so its unit tests
//! can try any command line without running anything.

pub mod bounds;
pub mod rows;

use std::ffi::OsString;
use std::process::exit;

/// Exit status for a command line that cannot be understood (the convention
/// of getopt-based tools): the same as foster's.
pub use foster::options::USAGE_ERROR;

/// What a command line asks a program to do.
#[derive(Debug, PartialEq)]
pub enum Request<T> {
    /// Run with these options.
    Run(T),
    /// `-h`, `--help`: show the usage text.
    Help,
    /// `-V`, `--version`: show the version.
    Version,
}

/// Reads the process's arguments with `parse` and returns the options to
/// run with. For `--help` it prints `usage` on stdout and exits 0, for
/// `--version` it prints the version and exits 0, and for a command line
/// `parse` refuses it prints the message and `usage` on stderr and exits
/// with [`USAGE_ERROR`].
pub fn options_or_exit<T>(
    program: &str,
    usage: &str,
    parse: fn(Vec<OsString>) -> Result<Request<T>, String>,
) -> T {
    match parse(std::env::args_os().skip(1).collect()) {
        Ok(Request::Run(options)) => options,
        Ok(Request::Help) => help(usage),
        Ok(Request::Version) => {
            println!("{program} version {}", env!("CARGO_PKG_VERSION"));
            exit(0)
        }
        Err(message) => usage_error(program, &message, usage),
    }
}

/// The answer to an argument that no option of the program matched:
/// the help or the version when it asks for them, else the error that
/// lexopt words for it ("invalid option '--bogus'", "unexpected argument
/// \"x\""). The last arm of every `parse`.
pub fn other<T>(arg: lexopt::Arg) -> Result<Request<T>, String> {
    use lexopt::prelude::*;
    match arg {
        Short('h') | Long("help") => Ok(Request::Help),
        Short('V') | Long("version") => Ok(Request::Version),
        other => Err(other.unexpected().to_string()),
    }
}

/// The `parse` of a program that takes no option of its own: it runs
/// without arguments, and knows only `--help` and `--version`.
pub fn no_options(args: Vec<OsString>) -> Result<Request<()>, String> {
    let mut parser = lexopt::Parser::from_args(args);
    match parser.next().map_err(error)? {
        None => Ok(Request::Run(())),
        Some(arg) => other(arg),
    }
}

/// lexopt's errors (a missing value, a value given to a switch) as the
/// message a program shows.
pub fn error(e: lexopt::Error) -> String {
    e.to_string()
}

/// The value of an option as UTF-8 text.
pub fn text(value: Result<OsString, lexopt::Error>) -> Result<String, String> {
    value
        .map_err(error)?
        .into_string()
        .map_err(|v| format!("not valid UTF-8: {}", v.to_string_lossy()))
}

/// `--format text|json`: true for json.
pub fn json_or_text(value: Result<OsString, lexopt::Error>) -> Result<bool, String> {
    match text(value)?.as_str() {
        "json" => Ok(true),
        "text" => Ok(false),
        _ => Err("--format takes text or json".into()),
    }
}

/// The command a wrapper runs: `first`, the first argument that is not
/// one of the wrapper's options, and every argument after it, untouched,
/// so that the command's own options are not taken for the wrapper's.
pub fn command_from(first: OsString, parser: &mut lexopt::Parser) -> Result<Vec<OsString>, String> {
    let mut command = vec![first];
    command.extend(parser.raw_args().map_err(error)?);
    Ok(command)
}

/// Checks that a wrapper was given a command to run.
pub fn some_command<T>(command: Vec<T>) -> Result<Vec<T>, String> {
    if command.is_empty() {
        return Err("no command given".into());
    }
    Ok(command)
}

/// Prints `PROGRAM: MESSAGE` and the usage text on stderr, then exits with
/// [`USAGE_ERROR`]. Never returns.
pub fn usage_error(program: &str, message: &dyn std::fmt::Display, usage: &str) -> ! {
    eprintln!("{program}: {message}");
    eprintln!("{usage}");
    exit(USAGE_ERROR)
}

/// Prints `PROGRAM: MESSAGE` on stderr and exits with `code`. Never returns.
pub fn fail(program: &str, code: i32, message: &dyn std::fmt::Display) -> ! {
    eprintln!("{program}: {message}");
    exit(code)
}

/// Prints the help text on stdout and exits with status 0. Never returns.
pub fn help(usage: &str) -> ! {
    println!("{usage}");
    exit(0)
}

/// Test helpers: `parse` of a program applied to a command line written as
/// `&str`s, and the options it gave, for the unit tests of each program.
pub mod testing {
    use super::Request;
    use std::ffi::OsString;

    /// `parse` applied to `args`.
    pub fn parse_str<T>(
        parse: fn(Vec<OsString>) -> Result<Request<T>, String>,
        args: &[&str],
    ) -> Result<Request<T>, String> {
        parse(args.iter().map(OsString::from).collect())
    }

    /// The options `parse` gives for `args`; panics, naming them, if it
    /// gives anything else.
    pub fn options<T: std::fmt::Debug>(
        parse: fn(Vec<OsString>) -> Result<Request<T>, String>,
        args: &[&str],
    ) -> T {
        match parse_str(parse, args) {
            Ok(Request::Run(options)) => options,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    /// The message `parse` gives for `args`; panics if it accepts them.
    pub fn refusal<T: std::fmt::Debug>(
        parse: fn(Vec<OsString>) -> Result<Request<T>, String>,
        args: &[&str],
    ) -> String {
        match parse_str(parse, args) {
            Err(message) => message,
            other => panic!("{args:?} was accepted: {other:?}"),
        }
    }

    /// Checks that `-h`, `--help`, `-V` and `--version` ask for help and
    /// version, whatever else the program takes.
    pub fn help_and_version<T: std::fmt::Debug + PartialEq>(
        parse: fn(Vec<OsString>) -> Result<Request<T>, String>,
    ) {
        for (args, expected) in [
            (&["-h"][..], Request::Help),
            (&["--help"], Request::Help),
            (&["-V"], Request::Version),
            (&["--version"], Request::Version),
        ] {
            assert_eq!(parse_str(parse, args), Ok(expected), "{args:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_value_and_rest(args: &[&str]) -> Result<Vec<OsString>, String> {
        let mut parser = lexopt::Parser::from_args(args.iter().map(OsString::from));
        match parser.next().map_err(error)? {
            Some(lexopt::Arg::Value(first)) => command_from(first, &mut parser),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn a_command_keeps_its_own_options() {
        assert_eq!(
            first_value_and_rest(&["ls", "-l", "--", "-h"]),
            Ok(["ls", "-l", "--", "-h"].map(OsString::from).to_vec())
        );
        assert_eq!(
            some_command(Vec::<OsString>::new()),
            Err("no command given".into())
        );
    }

    #[test]
    fn help_version_and_the_rest() {
        use lexopt::Arg::{Long, Short, Value};
        assert_eq!(other::<()>(Short('h')), Ok(Request::Help));
        assert_eq!(other::<()>(Long("version")), Ok(Request::Version));
        assert!(other::<()>(Long("bogus")).unwrap_err().contains("--bogus"));
        assert!(other::<()>(Value("x".into()))
            .unwrap_err()
            .contains("unexpected argument"));
        let no_options = |args: &[&str]| testing::parse_str(no_options, args);
        assert_eq!(no_options(&[]), Ok(Request::Run(())));
        assert_eq!(no_options(&["--version"]), Ok(Request::Version));
        assert!(no_options(&["x"]).unwrap_err().contains("unexpected"));
        assert_eq!(json_or_text(Ok("json".into())), Ok(true));
        assert_eq!(json_or_text(Ok("text".into())), Ok(false));
        assert!(json_or_text(Ok("xml".into())).is_err());
    }
}
