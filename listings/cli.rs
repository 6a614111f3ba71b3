//! What every binary of the book does with bad input: say what is wrong,
//! show how to call it, and exit with a status a script can test.

use std::process::exit;

/// Exit status for a command line that cannot be understood (the convention
/// of getopt-based tools and of tini: usage errors exit 2).
pub const USAGE_ERROR: i32 = 2;

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
