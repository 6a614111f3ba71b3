//! `.ci/check-book`, which decides whether a built book is good: made-up
//! books with the faults it must see.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const PROBE_TABLE: &str =
    "<table><thead><tr><th>which</th><th>PID</th><th>parent</th></tr></thead>\
<tbody><tr><td>Root</td><td>1</td><td>0</td></tr><tr><td>Child</td><td>2</td><td>1</td></tr>\
<tr><td>Grandchild</td><td>3</td><td>1</td></tr></tbody></table>";

const NOTE: &str = "<p><em>Not run here: The table needs a static busybox: there is no /x. \
To run it: apt-get install busybox-static.</em></p>";

/// A book of one page whose `<main>` holds `body`, in a fresh directory.
fn book_with(test: &str, body: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("orphans-check-book-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let page = format!("<html><body><main>{PROBE_TABLE}{body}</main></body></html>");
    std::fs::write(dir.join("index.html"), page).expect("write the page");
    dir
}

/// Whether check-book accepts the book at `dir` with `options`; `None`
/// (after `skipped:`, see `common::skip_unless` and
/// `ORPHANS_REQUIRE_PYTHON3`) without python3.
fn accepted(dir: &Path, options: &[&str]) -> Option<bool> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/check-book");
    let output = Command::new("python3")
        .arg(script)
        .arg(dir)
        .args(options)
        .output();
    match output {
        Ok(output) => Some(output.status.success()),
        Err(e) => {
            let why = format!("no python3 to run .ci/check-book ({e})");
            common::skip_unless("ORPHANS_REQUIRE_PYTHON3", Some(why));
            None
        }
    }
}

#[test]
fn a_not_run_line_fails_the_full_check_and_passes_the_degraded_one() {
    let book = book_with("note", NOTE);
    let Some(full) = accepted(&book, &[]) else {
        return;
    };
    assert!(!full, "in the full environment a note is a failure");
    assert_eq!(accepted(&book, &["--degraded"]), Some(true));
    let named = ["--degraded", "--expect-missing", "a static busybox"];
    assert_eq!(accepted(&book, &named), Some(true));
    let unnamed = ["--degraded", "--expect-missing", "a Docker engine"];
    assert_eq!(accepted(&book, &unnamed), Some(false), "nothing names it");
    let _ = std::fs::remove_dir_all(&book);
}

#[test]
fn a_clean_book_passes_and_faults_fail_it() {
    let clean = book_with("clean", "<p>Prose.</p>");
    let Some(ok) = accepted(&clean, &[]) else {
        return;
    };
    assert!(ok, "a book without faults");
    let _ = std::fs::remove_dir_all(&clean);
    let faults = [
        ("log", "<pre><code>   Compiling orphans v0.1.0 (/x)\n</code></pre>"),
        ("panic", "<p>thread 'main' panicked at src/main.rs:1:1</p>"),
        ("progress", "<pre><code>experiment: chapter 5, x: started\n</code></pre>"),
        ("cmdrun", "<p><strong>cmdrun error</strong>: 'x' returned exit code 1</p>"),
        ("inline", "<pre><code>*Not run here: x needs y: z. To run it: w.*</code></pre>"),
        ("failed", "<p><em>Not run here: The table failed on this machine: boom (the build's log has the rest).</em></p>"),
    ];
    for (name, body) in faults {
        let book = book_with(name, body);
        assert_eq!(accepted(&book, &["--degraded"]), Some(false), "{name}");
        let _ = std::fs::remove_dir_all(&book);
    }
}
