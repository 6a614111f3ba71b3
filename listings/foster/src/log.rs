//! foster's messages on stderr, filtered by verbosity.
//!
//! A log must never hurt the command. `eprintln!` panics when stderr cannot
//! be written (a pipe whose reader has gone, a file past its size limit, a
//! full disk), and an init must not die because nobody listens to it: every
//! message goes through [`say`], which writes it once, drops it if the
//! write fails, counts what it dropped, and says how many once stderr works
//! again. It never waits and never tries the same message twice. (The
//! signals such a write raises, SIGPIPE and SIGXFSZ, are foster's own and
//! never reach the command: [`Arrival::raised_by`](foster::signals::Arrival::raised_by).)

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Nothing at all.
pub const QUIET: u8 = 0;
/// Warnings and errors: the default, as in tini.
pub const WARNINGS: u8 = 1;
/// `-v`: what foster decides (subreaper, the command, the shutdown).
pub const INFO: u8 = 2;
/// `-vv`: every adoption, reap and forwarded signal.
pub const TRACE: u8 = 3;

// ANCHOR: say
/// Messages that could not be written since the last one that could.
static LOST: AtomicU64 = AtomicU64::new(0);

/// Writes `foster: MESSAGE` and a newline to stderr, in one write(2) for
/// a message of up to [`LINE_CAPACITY`] bytes. If an earlier message was
/// lost, a line saying how many comes first. A failed write is counted,
/// not retried, and never an error: a broken log only loses lines.
pub fn say(message: std::fmt::Arguments) {
    say_to(std::io::stderr().lock(), &LOST, message);
}

/// [`say`] to any `sink`, counting lost messages in `lost`.
fn say_to(sink: impl std::io::Write, lost: &AtomicU64, message: std::fmt::Arguments) {
    let earlier = lost.load(Ordering::Relaxed);
    let mut line = Line::new(sink);
    if earlier > 0 {
        let _ = writeln!(
            line,
            "foster: {earlier} earlier message(s) lost: stderr could not be written"
        );
    }
    let _ = writeln!(line, "foster: {message}");
    if line.finish() {
        lost.store(0, Ordering::Relaxed);
    } else {
        lost.store(earlier.saturating_add(1), Ordering::Relaxed);
    }
}

/// A message on its way to `sink`, gathered in a buffer on the stack (no
/// allocation) so that it leaves in one write(2): a pipe shared with the
/// command's output then never gets half of foster's line. A longer one
/// leaves in pieces. After the first failed write, nothing more is tried.
struct Line<W> {
    sink: W,
    buffer: [u8; LINE_CAPACITY],
    length: usize,
    failed: bool,
}

/// How much of a message [`Line`] gathers before it writes.
const LINE_CAPACITY: usize = 1024;

impl<W: std::io::Write> Line<W> {
    fn new(sink: W) -> Line<W> {
        Line {
            sink,
            buffer: [0; LINE_CAPACITY],
            length: 0,
            failed: false,
        }
    }

    /// Writes what is gathered; whether every write worked.
    fn finish(mut self) -> bool {
        self.flush();
        !self.failed
    }

    fn flush(&mut self) {
        let gathered = self.buffer.get(..self.length).unwrap_or_default();
        // write_all goes on only while the sink takes bytes (and after
        // EINTR); the first error ends it.
        if !self.failed && !gathered.is_empty() && self.sink.write_all(gathered).is_err() {
            self.failed = true;
        }
        self.length = 0;
    }

    /// Adds `bytes`, writing whenever the buffer is full.
    fn push(&mut self, mut bytes: &[u8]) -> std::fmt::Result {
        while !bytes.is_empty() {
            if self.failed {
                return Err(std::fmt::Error);
            }
            let Some(room) = self.buffer.get_mut(self.length..).filter(|r| !r.is_empty()) else {
                self.flush();
                continue;
            };
            let count = room.len().min(bytes.len());
            let (now, later) = bytes.split_at(count);
            if let Some(space) = room.get_mut(..count) {
                space.copy_from_slice(now);
            }
            self.length = self.length.saturating_add(count);
            bytes = later;
        }
        Ok(())
    }
}

impl<W: std::io::Write> std::fmt::Write for Line<W> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.push(text.as_bytes())
    }
}
// ANCHOR_END: say

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that takes bytes until it is told to fail, like a pipe
    /// whose reader goes away and a new one comes.
    struct Sink<'a> {
        taken: &'a mut Vec<u8>,
        broken: bool,
        writes: &'a mut usize,
    }

    impl std::io::Write for Sink<'_> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            *self.writes += 1;
            if self.broken {
                return Err(std::io::Error::from_raw_os_error(libc::EPIPE));
            }
            self.taken.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lost_messages_are_counted_and_said_once_when_the_log_works_again() {
        let lost = AtomicU64::new(0);
        let (mut taken, mut writes) = (Vec::new(), 0);
        let mut say = |broken: bool, message: std::fmt::Arguments| {
            let sink = Sink {
                taken: &mut taken,
                broken,
                writes: &mut writes,
            };
            say_to(sink, &lost, message);
        };
        say(false, format_args!("one"));
        say(true, format_args!("two"));
        say(true, format_args!("three {}", 3));
        say(false, format_args!("four"));
        say(false, format_args!("five"));
        let text = String::from_utf8_lossy(&taken);
        assert_eq!(
            text,
            "foster: one\nfoster: 2 earlier message(s) lost: stderr could not be written\n\
             foster: four\nfoster: five\n"
        );
        // One write per message, failed or not: never a retry.
        assert_eq!(writes, 5);
    }

    #[test]
    fn a_long_message_leaves_whole_in_pieces() {
        let lost = AtomicU64::new(0);
        let (mut taken, mut writes) = (Vec::new(), 0);
        let sink = Sink {
            taken: &mut taken,
            broken: false,
            writes: &mut writes,
        };
        let long = "é".repeat(LINE_CAPACITY);
        say_to(sink, &lost, format_args!("{long}"));
        assert_eq!(
            String::from_utf8(taken).ok(),
            Some(format!("foster: {long}\n"))
        );
        assert_eq!(writes, 3);
    }
}
