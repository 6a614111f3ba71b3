//! What the book remembers between runs: the output of an experiment, the
//! answer of the Docker check. One kind of record, in one place (the cache
//! directory inside cargo's target directory), with one hash.
//!
//! A record lives in a file named after its *slot* (what it answers: one
//! experiment's command line, one Docker setup) and holds the *key* it was
//! made under (what the answer depends on), the time, and the text. A
//! record whose key differs is not recalled: the next store replaces it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use orphans::workspace::{cache_dir, write_atomically};

/// The FNV-1a hash (64 bits), for slots and keys: a few lines, stable
/// across Rust releases (unlike the standard library's `DefaultHasher`), and
/// no defence against anyone.
#[derive(Clone, Debug)]
pub struct Fnv64(u64);

impl Fnv64 {
    pub fn new() -> Fnv64 {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Adds `part` and a separator, so that ("ab", "c") and ("a", "bc")
    /// hash apart.
    pub fn part(&mut self, part: &[u8]) {
        self.write(part);
        self.write(b"\0");
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.0
    }

    /// The hash so far, as 16 hexadecimal digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl Default for Fnv64 {
    fn default() -> Fnv64 {
        Fnv64::new()
    }
}

/// The hash of `bytes`, as 16 hexadecimal digits.
pub fn hash_hex(bytes: &[u8]) -> String {
    let mut hash = Fnv64::new();
    hash.write(bytes);
    hash.hex()
}

/// The hash of the contents of the file at `path` (its name left out), or
/// `absent` when it cannot be read.
pub fn file_hash(path: &Path) -> String {
    std::fs::read(path).map_or_else(|_| "absent".into(), |bytes| hash_hex(&bytes))
}

/// Size and modification time of a file: enough to notice that a program
/// of the machine (the `docker` client, a peer init) was replaced, without
/// reading it.
pub fn file_stamp(path: &Path) -> String {
    let Ok(meta) = path.metadata() else {
        return "absent".into();
    };
    let modified = meta
        .modified()
        .ok()
        .and_then(|time| time.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |age| age.as_nanos());
    format!("{}:{modified}", meta.len())
}

/// One remembered answer (see the module's documentation).
pub struct Record {
    file: PathBuf,
    key: String,
}

impl Record {
    /// The record of `slot` among those of `kind` (`experiments`,
    /// `docker-check`), under `key`.
    pub fn new(kind: &str, slot: &[u8], key: &str) -> Record {
        Record::in_dir(&cache_dir().join(kind), slot, key)
    }

    /// [`Record::new`] in the directory `dir`.
    pub fn in_dir(dir: &Path, slot: &[u8], key: &str) -> Record {
        Record {
            file: dir.join(hash_hex(slot)),
            key: hash_hex(key.as_bytes()),
        }
    }

    /// The text stored under this key and its age, unless it is older than
    /// `lifetime` (when one is given).
    pub fn recall(&self, lifetime: Option<Duration>) -> Option<(String, Duration)> {
        let stored = std::fs::read_to_string(&self.file).ok()?;
        let (key, rest) = stored.split_once('\n')?;
        let (time, text) = rest.split_once('\n')?;
        if key != self.key {
            return None;
        }
        let then = SystemTime::UNIX_EPOCH + Duration::from_secs(time.parse().ok()?);
        let age = SystemTime::now().duration_since(then).unwrap_or_default();
        if lifetime.is_some_and(|lifetime| age >= lifetime) {
            return None;
        }
        Some((text.to_string(), age))
    }

    /// Stores `text` under this key; a failure to store only means
    /// working it out again next time.
    pub fn store(&self, text: &str) {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |age| age.as_secs());
        let _ = write_atomically(&self.file, &format!("{}\n{now}\n{text}", self.key));
    }

    /// Forgets the record.
    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_changes_with_any_byte() {
        let (mut a, mut b) = (Fnv64::new(), Fnv64::new());
        a.write(b"probe");
        b.write(b"prob");
        assert_ne!(a.hex(), b.hex());
        b.write(b"e");
        assert_eq!(a.hex(), b.hex());
        let (mut c, mut d) = (Fnv64::new(), Fnv64::new());
        c.part(b"ab");
        c.part(b"c");
        d.part(b"a");
        d.part(b"bc");
        assert_ne!(c.value(), d.value());
    }

    #[test]
    fn a_record_needs_the_same_key_and_a_young_age() {
        let dir = std::env::temp_dir().join(format!("orphans-cache-test-{}", std::process::id()));
        let record = Record::in_dir(&dir, b"slot", "key one");
        assert_eq!(record.recall(None), None, "nothing stored yet");
        record.store("two\nlines");
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(
            record.recall(hour).map(|(text, _)| text),
            Some("two\nlines".into())
        );
        assert_eq!(record.recall(Some(Duration::ZERO)), None, "too old");
        let other_key = Record::in_dir(&dir, b"slot", "key two");
        assert_eq!(other_key.recall(None), None);
        other_key.store("replaced");
        assert_eq!(record.recall(None), None, "one record per slot");
        assert!(Record::in_dir(&dir, b"another slot", "key two")
            .recall(None)
            .is_none());
        record.forget();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stamps_and_hashes_change_when_the_file_does() {
        let path = std::env::temp_dir().join(format!("orphans-stamp-{}", std::process::id()));
        write_atomically(&path, "one").expect("write");
        let (stamp, hash) = (file_stamp(&path), file_hash(&path));
        write_atomically(&path, "three").expect("write again");
        assert_ne!(file_stamp(&path), stamp);
        assert_ne!(file_hash(&path), hash);
        assert_eq!(file_hash(&path), hash_hex(b"three"));
        let _ = std::fs::remove_file(&path);
        assert_eq!(file_stamp(&path), "absent");
        assert_eq!(file_hash(&path), "absent");
    }
}
