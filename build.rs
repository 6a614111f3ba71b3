//! Build script: makes every Rust block a reader of the book sees into a
//! test that `cargo test` compiles and runs.
//!
//! skeptic (the test generator) reads markdown but knows nothing of mdBook's
//! `{{#include …}}` and `{{#rustdoc_include …}}`, so each chapter is first
//! copied under `OUT_DIR` with those directives expanded the way mdBook
//! expands them. A copy is rewritten only when its text changes, and it is
//! given the mtime of its newest input: cargo re-runs this script when a
//! watched file is newer than its last run, so a fresh mtime on every copy
//! would make every build re-run it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use filetime::FileTime;

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let copies_dir = out_dir.join("chapters");
    fs::create_dir_all(&copies_dir).expect("create OUT_DIR/chapters");
    println!("cargo:rerun-if-changed=src");

    let mut copies = Vec::new();
    for chapter in chapters(Path::new("src")) {
        let mut inputs = vec![chapter.clone()];
        let text = read(&chapter);
        let expanded = expand(
            &text,
            chapter.parent().unwrap_or(Path::new(".")),
            &mut inputs,
        );
        let copy = copies_dir.join(chapter.file_name().expect("a chapter has a file name"));
        write_if_changed(&copy, &expanded);
        set_mtime_to_newest(&copy, &inputs);
        for input in &inputs {
            println!("cargo:rerun-if-changed={}", input.display());
        }
        copies.push(copy);
    }
    skeptic::generate_doc_tests(&copies);
}

/// The book's chapters: every `.md` file in `src/` except the table of
/// contents, in a stable order.
fn chapters(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .filter(|path| path.file_name().is_some_and(|name| name != "SUMMARY.md"))
        .collect();
    found.sort();
    found
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Replaces each include directive in `text` with what mdBook would put
/// there, recording the included files in `inputs`.
fn expand(text: &str, base: &Path, inputs: &mut Vec<PathBuf>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let Some(length) = rest[start..].find("}}") else {
            break;
        };
        let directive = &rest[start + 3..start + length];
        out.push_str(&rest[..start]);
        rest = &rest[start + length + 2..];
        let (command, argument) = directive.split_once(' ').unwrap_or((directive, ""));
        let rustdoc = match command {
            "include" => false,
            "rustdoc_include" => true,
            // Other mdBook directives ({{#title}}, {{#playground}}…) are
            // not code; leave them for mdBook.
            _ => {
                out.push_str(&format!("{{{{#{directive}}}}}"));
                continue;
            }
        };
        let (file, selector) = split_selector(argument.trim());
        let path = base.join(file);
        let source = read(&path);
        inputs.push(path.clone());
        let lines = select(&source, selector, rustdoc)
            .unwrap_or_else(|| panic!("{}: no anchor or lines '{selector}'", path.display()));
        out.push_str(&lines);
    }
    out.push_str(rest);
    out
}

/// Splits `file.rs:anchor` (or `file.rs:10:20`) into the file and the rest.
fn split_selector(argument: &str) -> (&str, &str) {
    argument.split_once(':').unwrap_or((argument, ""))
}

/// The part of `source` that `selector` names: everything, an anchor, or a
/// line range. For `rustdoc_include` the whole file is kept and the lines
/// outside the selection are hidden behind `# `, as mdBook does, so the
/// block still compiles as a whole program.
fn select(source: &str, selector: &str, rustdoc: bool) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let wanted = wanted_lines(&lines, selector)?;
    let mut out = String::new();
    for (index, line) in lines.iter().enumerate() {
        if is_anchor_line(line) {
            continue;
        }
        if wanted.contains(&index) {
            out.push_str(line);
        } else if rustdoc {
            out.push_str("# ");
            out.push_str(line);
        } else {
            continue;
        }
        out.push('\n');
    }
    if rustdoc && !source.contains("fn main") {
        // A module shown on its own still has to be a program to run.
        out.push_str("# fn main() {}\n");
    }
    Some(out.trim_end_matches('\n').to_string())
}

/// Indices of the lines a selector names.
fn wanted_lines(lines: &[&str], selector: &str) -> Option<std::ops::Range<usize>> {
    if selector.is_empty() {
        return Some(0..lines.len());
    }
    if let Some((from, to)) = line_range(selector, lines.len()) {
        return Some(from..to);
    }
    let start = lines
        .iter()
        .position(|l| anchor_name(l, "ANCHOR:") == Some(selector))?;
    let end = lines[start..]
        .iter()
        .position(|l| anchor_name(l, "ANCHOR_END:") == Some(selector))?;
    Some(start + 1..start + end)
}

/// mdBook's line ranges: `10:20`, `10:`, `:20`, `10` (1-based, inclusive).
fn line_range(selector: &str, count: usize) -> Option<(usize, usize)> {
    let (from, to) = selector.split_once(':').unwrap_or((selector, selector));
    let parse = |s: &str, default: usize| {
        if s.is_empty() {
            Some(default)
        } else {
            s.parse::<usize>().ok()
        }
    };
    let from = parse(from, 1)?.max(1) - 1;
    let to = parse(to, count)?.min(count);
    Some((from, to.max(from)))
}

fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let at = line.find(marker)?;
    Some(line[at + marker.len()..].trim())
}

fn is_anchor_line(line: &str) -> bool {
    anchor_name(line, "ANCHOR:").is_some() || anchor_name(line, "ANCHOR_END:").is_some()
}

fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

fn set_mtime_to_newest(copy: &Path, inputs: &[PathBuf]) {
    let newest = inputs
        .iter()
        .filter_map(|input| fs::metadata(input).ok()?.modified().ok())
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    filetime::set_file_mtime(copy, FileTime::from_system_time(newest))
        .unwrap_or_else(|e| panic!("setting the mtime of {}: {e}", copy.display()));
}
