//! The remembered output of experiments: a run whose output would be the
//! same is not run again (see `orphans::cache` for the record).

use std::time::Duration;

use orphans::cache::{file_hash, Fnv64, Record};
use orphans::workspace::{project_dir, target_dir};

use crate::options::Options;
use crate::programs::Programs;

/// The remembered output of one experiment: its slot is the chapter, what
/// and command line; its key everything the output depends on that can
/// change without the command line changing: the sources of the book's
/// programs the command uses, `Cargo.lock` and the compiler (see
/// `programs`), the machine (host name and kernel), the directory, the
/// variables the programs read, and for the components the experiment
/// uses, what they are (`orphans::capability::Component::identity`).
pub struct Memory {
    record: Record,
}

impl Memory {
    pub fn new(options: &Options) -> Memory {
        let mut slot = Fnv64::new();
        slot.part(options.chapter.as_bytes());
        slot.part(options.what.as_bytes());
        for word in &options.command {
            slot.part(word.as_encoded_bytes());
        }
        Memory {
            record: Record::new("experiments", slot.hex().as_bytes(), &run_key(options)),
        }
    }

    /// The page and its age, if the remembered run has this key.
    pub fn recall(&self) -> Option<(String, Duration)> {
        self.record.recall(None)
    }

    /// Remembers `page`, which holds the notes that follow the output
    /// (they depend only on what the key holds).
    pub fn store(&self, page: &str) {
        self.record.store(page);
    }
}

/// The key of a run (see [`Memory`]), as a hash.
fn run_key(options: &Options) -> String {
    let mut key = Fnv64::new();
    let mut add = |text: &str| key.part(text.as_bytes());
    add("experiment 3");
    for word in std::env::args_os().skip(1) {
        add(&word.to_string_lossy());
    }
    add(&std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy());
    for file in ["/proc/sys/kernel/hostname", "/proc/sys/kernel/osrelease"] {
        add(&std::fs::read_to_string(file).unwrap_or_default());
    }
    // Not $PATH: two terminals rarely agree on it, and the programs that
    // matter are the book's (below) and the components' (their identity).
    for variable in ["ORPHANS_IMAGE_NAME", "ORPHANS_BUSYBOX", "DOCKER_HOST"] {
        add(&std::env::var(variable).unwrap_or_default());
    }
    // What the book's programs are built with: the locked crates and the
    // compiler (cargo's record of it in the target directory).
    add(&file_hash(&project_dir().join("Cargo.lock")));
    add(&rustc_fingerprint());
    let mut programs = Programs::find();
    let used = programs.used_by(&options.command);
    for name in used {
        let fingerprint = programs.fingerprint(&name);
        add(&format!("{name} {fingerprint}"));
    }
    for component in options.needs.iter().chain(&options.wants) {
        add(&component.identity());
    }
    key.hex()
}

/// The compiler that builds the book's programs, as cargo fingerprints it
/// (`rustc_fingerprint` in the target directory's `.rustc_info.json`).
fn rustc_fingerprint() -> String {
    let info = std::fs::read_to_string(target_dir().join(".rustc_info.json")).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&info)
        .ok()
        .and_then(|value| value["rustc_fingerprint"].as_u64())
        .map_or_else(String::new, |fingerprint| fingerprint.to_string())
}
