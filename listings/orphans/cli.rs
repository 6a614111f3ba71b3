//! What every binary of the book does with bad input: say what is wrong,
//! show how to call it, and exit with a status a script can test.

use std::process::exit;

/// Exit status for a command line that cannot be understood (the convention
/// of getopt-based tools): the same as foster's.
pub use foster::options::USAGE_ERROR;

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

/// The command a wrapper runs: `first`, the first argument that is not
/// one of the wrapper's options, and every argument after it, untouched,
/// so that the command's own options are not taken for the wrapper's.
pub fn command_from(
    first: std::ffi::OsString,
    parser: &mut lexopt::Parser,
) -> Vec<std::ffi::OsString> {
    let mut command = vec![first];
    command.extend(parser.raw_args().into_iter().flatten());
    command
}
