//! Build script of the package `book-blocks` (listings/book/blocks): makes
//! every Rust block a reader of the book sees into a test that `cargo test`
//! compiles and runs (tests/skeptic.rs). It belongs to no package whose
//! programs the book runs, so that editing a chapter rebuilds none of them.
//!
//! skeptic (the test generator) reads markdown but knows nothing of mdBook's
//! `{{#include …}}` and `{{#rustdoc_include …}}`, so each chapter is first
//! copied under `OUT_DIR` with those directives expanded the way mdBook
//! expands them (the `orphans-includes` crate, `listings/includes`, which
//! stops the build at an include that does not resolve). A copy is rewritten only when its text
//! changes, and it is given the mtime of its newest input: cargo re-runs
//! this script when a watched file is newer than its last run, so a fresh
//! mtime on every copy would make every build re-run it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use filetime::FileTime;

use orphans_includes as includes;

fn main() {
    // A build script that cannot do its job says why and fails: cargo
    // shows the message and stops, with no backtrace to read through.
    if let Err(message) = copy_chapters_for_skeptic() {
        println!("cargo:warning={message}");
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn copy_chapters_for_skeptic() -> Result<(), String> {
    let out_dir = std::env::var("OUT_DIR").map_err(|_| "cargo did not set OUT_DIR")?;
    let copies_dir = PathBuf::from(out_dir).join("chapters");
    fs::create_dir_all(&copies_dir)
        .map_err(|e| format!("creating {}: {e}", copies_dir.display()))?;
    // tests/skeptic.rs includes the tests only where this is set.
    println!("cargo:rustc-check-cfg=cfg(book_blocks)");
    println!("cargo:rustc-cfg=book_blocks");
    let src = book_root()?.join("src");
    println!("cargo:rerun-if-changed={}", src.display());

    let mut copies = Vec::new();
    for chapter in chapters(&src)? {
        let mut inputs = vec![chapter.clone()];
        let text = read(&chapter)?;
        let mut read_listing = |path: &Path| fs::read_to_string(path).map_err(|e| e.to_string());
        let expanded = includes::expand(&text, &chapter, &mut read_listing, &mut inputs)?;
        let copy = copies_dir.join(chapter.file_name().unwrap_or_default());
        write_if_changed(&copy, &expanded)?;
        set_mtime_to_newest(&copy, &inputs)?;
        inputs.sort();
        inputs.dedup();
        for input in &inputs {
            println!("cargo:rerun-if-changed={}", input.display());
        }
        copies.push(copy);
    }
    skeptic::generate_doc_tests(&copies);
    Ok(())
}

/// The repository's root, where `book.toml` is: this script is the root's
/// build.rs, run for the package in `listings/book/blocks`.
fn book_root() -> Result<PathBuf, String> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| "no CARGO_MANIFEST_DIR")?;
    Path::new(&manifest)
        .ancestors()
        .find(|dir| dir.join("book.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no book.toml above {manifest}"))
}

/// The book's chapters: every `.md` file in `src/` except the table of
/// contents, in a stable order.
fn chapters(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .filter(|path| path.file_name().is_some_and(|name| name != "SUMMARY.md"))
        .collect();
    found.sort();
    Ok(found)
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn set_mtime_to_newest(copy: &Path, inputs: &[PathBuf]) -> Result<(), String> {
    let newest = inputs
        .iter()
        .filter_map(|input| fs::metadata(input).ok()?.modified().ok())
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    filetime::set_file_mtime(copy, FileTime::from_system_time(newest))
        .map_err(|e| format!("setting the mtime of {}: {e}", copy.display()))
}
