//! The book's programs as an experiment's output depends on them: which of
//! them a command uses, and what each is built from.
//!
//! cargo writes, beside each binary and example it builds, a dependency
//! file (`NAME.d`, make's syntax) that lists every source file of this
//! workspace the program was compiled from: its own files, the library's,
//! foster's. What a program does follows from those files and from
//! `Cargo.lock` (and the compiler), not from when it was linked: `cargo
//! test` relinks the binaries with other features of the shared crates, and
//! `cargo build` links them back, so their times and bytes say nothing.
//!
//! Which programs a command uses is read from names: the programs its words
//! name, and those named in the string literals of their sources, and so on
//! (a table tool finds `container` or `orphan-maker` by name; a row names
//! its PID 1). A name in a literal that is not a program costs a run that
//! was not needed, never a stale page. The sources every program shares
//! (the library, foster) are read more narrowly, or every command would
//! use every program: there a literal names a program only when it is the
//! name, or a path ending in it (`sibling("container")`, `"/bin/census"`),
//! not when it is a word of a message. Tests (`#[cfg(test)]` onwards) are
//! left out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use orphans::cache::{file_hash, Fnv64};
use orphans::process::spawn::{is_executable, own_dir};
use orphans::workspace::project_dir;

/// The book's programs, by name.
pub struct Programs {
    by_name: BTreeMap<String, Program>,
    /// The text of each source file read so far (the library's files are
    /// shared by every program).
    texts: HashMap<PathBuf, String>,
}

/// One program: its executable, and its sources when cargo recorded them.
struct Program {
    executable: PathBuf,
    sources: Option<Vec<PathBuf>>,
}

impl Programs {
    /// cargo's binaries and examples of the book: the executable files in
    /// the directory of this program and in its `examples/`.
    pub fn find() -> Programs {
        let mut by_name = BTreeMap::new();
        for dir in [own_dir(), own_dir().join("examples")] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for path in entries.filter_map(|entry| Some(entry.ok()?.path())) {
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if is_executable(&path) && !name.contains('.') && !is_hashed_copy(name) {
                    let sources = sources_in(&path.with_extension("d"));
                    let name = name.to_string();
                    let program = Program {
                        executable: path,
                        sources,
                    };
                    by_name.insert(name, program);
                }
            }
        }
        Programs {
            by_name,
            texts: HashMap::new(),
        }
    }

    /// The programs `command` uses, by name (see the module's
    /// documentation): those its words name, and those they name in turn.
    pub fn used_by(&mut self, command: &[OsString]) -> BTreeSet<String> {
        let shared = self.shared_sources();
        let mut used = BTreeSet::new();
        let mut next: Vec<String> = command
            .iter()
            .flat_map(|word| words_of(&word.to_string_lossy()))
            .collect();
        for source in &shared {
            let literals = literals_in(code_of(self.text(source)));
            next.extend(literals.iter().filter_map(|l| named_by(l)));
        }
        while let Some(word) = next.pop() {
            if !self.by_name.contains_key(&word) || !used.insert(word.clone()) {
                continue;
            }
            for source in self.sources_of(&word) {
                if !shared.contains(&source) {
                    let literals = literals_in(code_of(self.text(&source)));
                    next.extend(literals.iter().flat_map(|l| words_of(l)));
                }
            }
        }
        used
    }

    /// The sources that more than one program has: the library's and
    /// foster's, which are not any one program's own.
    fn shared_sources(&self) -> BTreeSet<PathBuf> {
        let mut seen = BTreeSet::new();
        let mut shared = BTreeSet::new();
        for list in self.by_name.values().filter_map(|p| p.sources.as_ref()) {
            for source in list {
                if !seen.insert(source.clone()) {
                    shared.insert(source.clone());
                }
            }
        }
        shared
    }

    /// What `name` is built from, as a hash: the path (within the project)
    /// and contents of each of its sources; the executable's contents when
    /// cargo left no dependency file.
    pub fn fingerprint(&mut self, name: &str) -> String {
        let Some(program) = self.by_name.get(name) else {
            return "absent".into();
        };
        let Some(sources) = program.sources.clone() else {
            return file_hash(&program.executable);
        };
        let mut hash = Fnv64::new();
        for source in sources {
            let relative = source.strip_prefix(project_dir()).unwrap_or(&source);
            hash.part(relative.to_string_lossy().as_bytes());
            hash.part(self.text(&source).as_bytes());
        }
        hash.hex()
    }

    fn sources_of(&self, name: &str) -> Vec<PathBuf> {
        self.by_name
            .get(name)
            .and_then(|program| program.sources.clone())
            .unwrap_or_default()
    }

    fn text(&mut self, path: &Path) -> &str {
        self.texts
            .entry(path.to_path_buf())
            .or_insert_with(|| std::fs::read_to_string(path).unwrap_or_default())
    }
}

/// Whether `name` is one of the copies cargo keeps of an example under a
/// name with its hash (`zombie-0123456789abcdef`), beside `zombie`.
fn is_hashed_copy(name: &str) -> bool {
    name.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The source files a dependency file lists (`TARGET: SOURCE...`, spaces
/// in names escaped with `\`), those of the project only: not the files of
/// `.git` that a build script watches. `None` without such a file.
fn sources_in(dep_file: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(dep_file).ok()?;
    let (_, list) = text.lines().next()?.split_once(": ")?;
    let project = project_dir();
    let mut sources: Vec<PathBuf> = list
        .replace("\\ ", "\u{0}")
        .split_whitespace()
        .map(|name| PathBuf::from(name.replace('\u{0}', " ")))
        .filter(|path| path.starts_with(&project) && !path.starts_with(project.join(".git")))
        .collect();
    sources.sort();
    Some(sources)
}

/// The words of a command's argument that could name a program: runs of
/// letters, digits, `-` and `_` (`"docker naive-init worker"`,
/// `/bin/census`).
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|word| !word.is_empty())
        .map(String::from)
        .collect()
}

/// The program a whole literal names: itself, or the last part of a path
/// (`"/bin/census"`); `None` for a literal with spaces, a message.
fn named_by(literal: &str) -> Option<String> {
    let name = literal.rsplit('/').next()?;
    let word = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    word.then(|| name.to_string())
}

/// Rust source `text` without its tests: up to `#[cfg(test)]`.
fn code_of(text: &str) -> &str {
    text.find("#[cfg(test)]")
        .map_or(text, |tests| &text[..tests])
}

/// The string literals of Rust source `text`. Comments are skipped; a
/// literal ends at a `"` that no `\` escapes; raw strings (`r#"…"#`) end at
/// their own closing.
fn literals_in(text: &str) -> Vec<&str> {
    let mut literals = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['"', '/', '\'']) {
        let (before, from) = rest.split_at(at);
        if from.starts_with("//") {
            rest = from.find('\n').map_or("", |end| &from[end..]);
        } else if from.starts_with("/*") {
            rest = from.find("*/").map_or("", |end| &from[end + 2..]);
        } else if let Some(after) = from.strip_prefix("'\"'") {
            rest = after;
        } else if let Some(body) = from.strip_prefix('"') {
            let hashes = before.len() - before.trim_end_matches('#').len();
            let raw = before.trim_end_matches('#').ends_with('r');
            let end = if raw {
                let closing = format!("\"{}", "#".repeat(hashes));
                body.find(&closing).map(|end| (end, end + closing.len()))
            } else {
                literal_end(body).map(|end| (end, end + 1))
            };
            let (inside, after) = end.unwrap_or((body.len(), body.len()));
            literals.push(&body[..inside]);
            rest = &body[after..];
        } else {
            rest = &from[1..];
        }
    }
    literals
}

/// Where the ordinary string literal whose text starts `body` ends: the
/// first `"` not escaped by a `\`.
fn literal_end(body: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(at),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_literals_not_comments() {
        let source = r##"
            // orphan-maker is named in a comment only
            /* and naive-init here */
            let c = sibling("container");
            let q = '"';
            let s = "a \"quoted\" worker";
            let r = r#"say "app" then"#;
            let shell = "/bin/census";
        "##;
        let literals = literals_in(source);
        assert_eq!(
            literals,
            [
                "container",
                r#"a \"quoted\" worker"#,
                r#"say "app" then"#,
                "/bin/census"
            ]
        );
        let named: Vec<String> = literals.iter().filter_map(|l| named_by(l)).collect();
        assert_eq!(named, ["container", "census"]);
        assert_eq!(code_of("a\n#[cfg(test)]\nb"), "a\n");
    }

    #[test]
    fn a_dependency_file_lists_the_projects_sources() {
        let dir = std::env::temp_dir().join(format!("orphans-dep-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let project = project_dir();
        let file = dir.join("probe.d");
        let text = format!(
            "{0}/target/debug/probe: {0}/.git/HEAD {0}/listings/a\\ b.rs /elsewhere/x.rs {0}/lib.rs\n",
            project.display()
        );
        std::fs::write(&file, text).expect("write it");
        let sources = sources_in(&file).expect("read it");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            sources,
            [project.join("lib.rs"), project.join("listings/a b.rs")]
        );
    }

    #[test]
    fn words_of_a_row_name_its_programs() {
        assert_eq!(
            words_of("docker naive-init worker"),
            ["docker", "naive-init", "worker"]
        );
        assert_eq!(words_of("'- | tini -s'"), ["-", "tini", "-s"]);
    }
}
