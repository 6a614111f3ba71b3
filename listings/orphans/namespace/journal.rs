//! The journal: how the workload processes of the later chapters tell the
//! program that stops them what happened, since a process that has been
//! killed can no longer answer questions.
//!
//! A workload appends one line per event to the file named by the
//! environment variable [`VARIABLE`]: `ready worker 2` once it is set up,
//! `sigterm worker 2` when SIGTERM reaches it. Without the variable it
//! notes nothing.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;

/// The environment variable that names the journal file.
pub const VARIABLE: &str = "ORPHANS_JOURNAL";

/// What a workload notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// It is set up: the one who stops it may begin (`ready`).
    Ready,
    /// SIGTERM reached it (`sigterm`).
    Sigterm,
}

impl Event {
    /// The word the journal holds for it.
    pub fn word(self) -> &'static str {
        match self {
            Event::Ready => "ready",
            Event::Sigterm => "sigterm",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

impl FromStr for Event {
    type Err = ();

    fn from_str(word: &str) -> Result<Event, ()> {
        [Event::Ready, Event::Sigterm]
            .into_iter()
            .find(|event| event.word() == word)
            .ok_or(())
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub event: Event,
    /// Who wrote it: the program's name.
    pub name: String,
    /// The writer's PID, in its own PID namespace.
    pub pid: i32,
}

/// Appends `EVENT NAME PID` to the journal, if there is one. The file is
/// opened with `O_APPEND` and the line goes out in one write(2), so lines of
/// processes that write at the same time never mix (open(2), O_APPEND).
pub fn note(event: Event, name: &str) {
    let Some(path) = std::env::var_os(VARIABLE) else {
        return;
    };
    let line = format!("{event} {name} {}\n", std::process::id());
    let written = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("{name}: cannot write to the journal {path:?}: {e}");
    }
}

/// Every entry of the journal at `path`, in the order they were written;
/// empty when there is no such file yet.
pub fn read(path: &Path) -> Vec<Entry> {
    parse_all(&std::fs::read_to_string(path).unwrap_or_default())
}

/// Every entry of a journal's text, skipping lines that are not entries
/// (the last one may be half written).
pub fn parse_all(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse).collect()
}

/// Parses one journal line.
fn parse(line: &str) -> Option<Entry> {
    let mut words = line.split_whitespace();
    let (event, name, pid) = (words.next()?, words.next()?, words.next()?);
    Some(Entry {
        event: event.parse().ok()?,
        name: name.to_string(),
        pid: pid.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_parsed_and_junk_skipped() {
        assert_eq!(
            parse("sigterm worker 2"),
            Some(Entry {
                event: Event::Sigterm,
                name: "worker".into(),
                pid: 2
            })
        );
        assert_eq!(parse("ready worker"), None);
        assert_eq!(parse("ready worker two"), None);
        assert_eq!(parse("woken worker 2"), None, "not an event");
        assert_eq!(parse("ready app 7").map(|e| e.event), Some(Event::Ready));
    }
}
