//! Helpers shared by the integration tests: running the book's binaries,
//! and skipping (or, in CI, failing) when the machine lacks a privilege.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::Write;
use std::process::{Command, Output};

use orphans::capability::{self, Missing};
use orphans::process::deadline::{poll_until, TICK};
use orphans::process::procfs::children;
use serde_json::Value;

/// Runs `program` with `args` and returns its output, panicking with a
/// clear message only if it could not be started at all.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not start {program}: {e}"))
}

/// Stdout of a successful run, parsed as JSON; panics with stderr otherwise.
pub fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The probe's object for `role` ("root", "child", "grandchild").
pub fn row<'a>(rows: &'a Value, role: &str) -> &'a Value {
    rows.as_array()
        .and_then(|rows| rows.iter().find(|row| row["role"] == role))
        .unwrap_or_else(|| panic!("no {role} row in {rows}"))
}

/// Decides what a test does when `missing` says a requirement is not met:
/// `None` means go on. Otherwise the test should return early, after this
/// said `skipped: TEST: REASON` — unless the environment variable `require`
/// is `1` (CI sets it where the machine has the capability), in which case
/// the test fails here. Every test that skips goes through here.
pub fn skip_unless(require: &str, missing: Option<String>) -> bool {
    let Some(reason) = missing else {
        return false;
    };
    if std::env::var(require).as_deref() == Ok("1") {
        panic!("{require}=1 but this test cannot run: {reason}");
    }
    say_skipped(&reason);
    true
}

/// Writes `skipped: TEST: REASON` straight to file descriptor 2. libtest
/// keeps what a passing test prints with `print!` or `eprint!` to itself,
/// so a plain `cargo test` would show "ok" for a test that did not run;
/// a write to the stderr handle is not captured, and shows. libtest names
/// each test's thread after the test.
fn say_skipped(reason: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let line = format!("skipped: {test}: {reason}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Like [`skip_unless`], for a check of `orphans::capability`: its
/// [`Missing`] is the reason.
pub fn skip_without(require: &str, check: Result<(), Missing>) -> bool {
    skip_unless(require, check.err().map(|missing| missing.to_string()))
}

/// True (after printing `skipped: …`) when this machine cannot make PID
/// namespaces, as `container` (at the given path) finds out; see
/// [`skip_unless`] and `ORPHANS_REQUIRE_NAMESPACES`.
pub fn skip_without_namespaces(container: &str) -> bool {
    skip_without(
        "ORPHANS_REQUIRE_NAMESPACES",
        capability::namespaces_with(std::path::Path::new(container)),
    )
}

/// True (after printing `skipped: …`) unless a Docker engine here can run
/// the project's image: it runs containers (`docker run --network none`
/// of a one-file image works, `capability::docker`), and the image can be
/// built (a static busybox). Every Docker test uses that image. See
/// [`skip_unless`] and `ORPHANS_REQUIRE_DOCKER`.
pub fn skip_without_docker() -> bool {
    let missing = capability::project_image();
    let reason = (!missing.is_empty()).then(|| orphans::missing::all_of(&missing));
    skip_unless("ORPHANS_REQUIRE_DOCKER", reason)
}

/// The project's image (`orphans:VERSION`: the static builds of the
/// book's programs, foster among them, and busybox, `FROM scratch`), built
/// if needed; `None` (after `skipped: …`, see [`skip_without_docker`])
/// without a Docker engine that can run it.
pub fn project_image_or_skip() -> Option<String> {
    if skip_without_docker() {
        return None;
    }
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let image = orphans::containers::image::ensure_image(project)
        .unwrap_or_else(|e| panic!("building the project's image: {e}"));
    Some(image.reference)
}

/// The PID of the first child of `parent`, waiting up to five seconds for
/// it to appear (`/proc/PID/task/PID/children`, proc(5)).
pub fn wait_for_child_of(parent: i32) -> i32 {
    let five_seconds = std::time::Duration::from_secs(5);
    poll_until(five_seconds, TICK, || children(parent).first().copied())
        .unwrap_or_else(|| panic!("process {parent} started no child within 5 s"))
}

/// Checks that `text` is well-formed XML as far as the book's pictures use
/// it (elements, attributes in double quotes, character references; no
/// comments, CDATA or processing instructions) and returns the number of
/// elements. Panics with the offending position otherwise. A tiny checker,
/// so that the tests need no XML crate.
pub fn well_formed_elements(text: &str) -> usize {
    let mut open: Vec<&str> = Vec::new();
    let mut elements = 0;
    let mut rest = text;
    let at = |rest: &str| text.len() - rest.len();
    while let Some(start) = rest.find(['<', '&']) {
        assert!(
            !rest[..start].contains('>'),
            "a stray '>' before byte {}",
            at(rest)
        );
        rest = &rest[start..];
        if rest.starts_with('&') {
            let end = rest.find(';').expect("an unterminated '&' reference");
            let name = &rest[1..end];
            assert!(
                ["amp", "lt", "gt", "quot", "apos"].contains(&name)
                    || name.starts_with('#') && name[1..].chars().all(|c| c.is_ascii_digit()),
                "an unknown reference &{name}; at byte {}",
                at(rest)
            );
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest
            .find('>')
            .unwrap_or_else(|| panic!("an unclosed tag at byte {}", at(rest)));
        let tag = &rest[1..end];
        assert!(
            !tag.contains('<'),
            "a '<' inside a tag at byte {}",
            at(rest)
        );
        if let Some(name) = tag.strip_prefix('/') {
            let expected = open.pop();
            assert_eq!(
                expected,
                Some(name.trim()),
                "mismatched </{name}> at byte {}",
                at(rest)
            );
        } else {
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name = body.split_whitespace().next().unwrap_or("");
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'),
                "a bad element name '{name}' at byte {}",
                at(rest)
            );
            assert_eq!(
                body.matches('"').count() % 2,
                0,
                "unbalanced quotes in <{name}> at byte {}",
                at(rest)
            );
            elements += 1;
            if !self_closing {
                open.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "elements never closed: {open:?}");
    elements
}

/// The path of foster's binary. foster is a package of its own, so cargo
/// gives this package no `CARGO_BIN_EXE_foster`; but `cargo test` from the
/// root builds every binary of the workspace into one directory, next to
/// this package's own (wherever `CARGO_TARGET_DIR` puts it).
pub fn foster_binary() -> String {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_container")).with_file_name("foster");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p foster` (a plain `cargo test` from the root does)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// Podman, ready to run the project's image (see
/// `orphans::capability::podman_ready`), or `None` after printing
/// `skipped: …`; see [`skip_unless`] and `ORPHANS_REQUIRE_PODMAN`.
pub fn podman_or_skip() -> Option<orphans::containers::podman::Ready> {
    match orphans::capability::podman_ready() {
        Ok(ready) => Some(ready),
        Err(missing) => {
            skip_unless("ORPHANS_REQUIRE_PODMAN", Some(missing.to_string()));
            None
        }
    }
}
