//! foster's messages on stderr, filtered by verbosity.
//!
//! `eprintln!` panics when stderr cannot be written (a closed pipe, a full
//! disk), and an init must not die because nobody listens to it: every
//! message goes through [`say`], which ignores write errors.

use std::io::Write;

/// Nothing at all.
pub const QUIET: u8 = 0;
/// Warnings and errors: the default, as in tini.
pub const WARNINGS: u8 = 1;
/// `-v`: what foster decides (subreaper, the command, the shutdown).
pub const INFO: u8 = 2;
/// `-vv`: every adoption, reap and forwarded signal.
pub const TRACE: u8 = 3;

/// Writes `foster: MESSAGE` and a newline to stderr, ignoring errors.
pub fn say(message: std::fmt::Arguments) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(format_args!("foster: {message}\n"));
}

/// A verbosity level and the messages it lets through.
#[derive(Clone, Copy, Debug)]
pub struct Log {
    pub level: u8,
}

impl Log {
    pub fn warn(&self, message: std::fmt::Arguments) {
        if self.level >= WARNINGS {
            say(message);
        }
    }

    pub fn info(&self, message: std::fmt::Arguments) {
        if self.level >= INFO {
            say(message);
        }
    }

    pub fn trace(&self, message: std::fmt::Arguments) {
        if self.level >= TRACE {
            say(message);
        }
    }

    /// Whether `-vv` details are wanted (they cost extra system calls).
    pub fn tracing(&self) -> bool {
        self.level >= TRACE
    }
}
