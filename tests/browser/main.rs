//! The built book, opened in a real browser: Debian's headless Chromium,
//! driven through chromedriver with the W3C WebDriver protocol.
//!
//! For every chapter page it checks that the page renders, that every table
//! has rows and every "PID" column holds numbers, that every picture the
//! chapter asks for (`--picture` in its markdown) is drawn, that no
//! `cmdrun error` or raw `<!-- cmdrun` text is visible, and that the
//! sidebar's links lead to pages that exist. It also types "subreaper" into
//! the book's search box and expects results. One screenshot per chapter is
//! saved under `screenshots/` in cargo's target directory for a person to
//! look at.
//!
//! It also checks that every page reads on a laptop and on a phone (the
//! `widths` module): at 1280x800 every table and code block fits mdBook's
//! text column, and at 390 px wide no page scrolls sideways as a whole.
//!
//! The parts: this file (the test, the tools, the book, chromedriver),
//! `page.rs` (what a chapter must show), `widths.rs` (the two widths) and
//! `webdriver.rs` (the protocol).
//!
//! The book: `ORPHANS_BOOK_DIR` if set (an already built book), otherwise
//! this test runs `mdbook build` into `book-browser/` in cargo's target
//! directory. Without
//! chromium, chromedriver or mdbook the test prints `skipped: <reason>`,
//! unless `ORPHANS_REQUIRE_BROWSER=1` (CI sets it), which makes it fail.
//!
//! WebDriver is JSON over HTTP on localhost; the few commands used here are
//! spoken with `std::net` and `serde_json` (see the `webdriver` module)
//! rather than through an async WebDriver crate, whose hundred-odd
//! dependencies would be compiled on every `cargo test`.

#[path = "../common/mod.rs"]
mod common;
mod page;
mod webdriver;
mod widths;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use page::{check_chapter, check_search};
use webdriver::Session;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_chapter_renders_in_a_real_browser() {
    let Some(tools) = find_tools() else { return };
    let Some(book) = built_book() else {
        return;
    };
    let screenshots = orphans::workspace::target_dir().join("screenshots");
    std::fs::create_dir_all(&screenshots).expect("create the screenshots' directory");
    let driver = Chromedriver::start(&tools.chromedriver);
    let session = Session::start(driver.port, &tools.chromium);

    let chapters = chapters_of(&book);
    assert!(!chapters.is_empty(), "no chapter in {}", book.display());
    let mut problems = Vec::new();
    for chapter in &chapters {
        let fits = widths::check_widths(&session, &book, chapter);
        println!("browser: {chapter}: {}", widths::summary(&fits));
        problems.extend(fits);
        problems.extend(check_chapter(&session, &book, chapter, &screenshots));
    }
    problems.extend(check_search(&session, &book, "subreaper"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    println!(
        "browser: {} chapters checked, screenshots in {}",
        chapters.len(),
        screenshots.display()
    );
}

/// Where the browser and its driver are.
struct Tools {
    chromium: String,
    chromedriver: String,
}

/// The tools, or `None` after printing `skipped: …` (see
/// `common::skip_unless`) when one is missing.
fn find_tools() -> Option<Tools> {
    match orphans::capability::browser() {
        Ok(found) => Some(Tools {
            chromium: found.chromium.display().to_string(),
            chromedriver: found.chromedriver.display().to_string(),
        }),
        Err(missing) => {
            common::skip_unless("ORPHANS_REQUIRE_BROWSER", Some(missing.to_string()));
            None
        }
    }
}

/// `ORPHANS_BOOK_DIR`, or a fresh build of the book into
/// `target/book-browser`; `None` after printing `skipped: …` when there is
/// no mdbook to build it.
fn built_book() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ORPHANS_BOOK_DIR") {
        let dir = Path::new(MANIFEST_DIR).join(dir);
        assert!(
            dir.join("index.html").exists(),
            "ORPHANS_BOOK_DIR={} has no index.html",
            dir.display()
        );
        return Some(dir);
    }
    let Some(mdbook) = orphans::capability::on_path("mdbook") else {
        common::skip_unless(
            "ORPHANS_REQUIRE_BROWSER",
            Some("no mdbook to build the book (and no ORPHANS_BOOK_DIR)".into()),
        );
        return None;
    };
    let dest = orphans::workspace::target_dir().join("book-browser");
    let _ = std::fs::remove_dir_all(&dest);
    // Every experiment of the book runs here; each is bounded by its own
    // timeouts, and the whole build by this one.
    let output = Command::new("timeout")
        .arg("600")
        .arg(&mdbook)
        .args(["build", "--dest-dir"])
        .arg(&dest)
        .current_dir(MANIFEST_DIR)
        .output()
        .expect("run mdbook");
    assert!(
        output.status.success(),
        "mdbook build failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(dest)
}

/// The chapter pages of the book, in the order of its table of contents:
/// every `(chNN-….md)` link of `src/SUMMARY.md`, as `chNN-….html`.
fn chapters_of(book: &Path) -> Vec<String> {
    let summary = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("src/SUMMARY.md"))
        .expect("read src/SUMMARY.md");
    let pages: Vec<String> = summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')'))
        .map(|(link, _)| link.trim())
        .filter(|link| link.ends_with(".md"))
        .map(|link| link.replace(".md", ".html"))
        .collect();
    for page in &pages {
        assert!(book.join(page).exists(), "{page} is not in the built book");
    }
    pages
}

/// chromedriver, listening on a free port of localhost, killed on drop.
struct Chromedriver {
    process: Child,
    port: u16,
}

impl Chromedriver {
    fn start(program: &str) -> Chromedriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let driver = Chromedriver { process, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while webdriver::status(port).is_none() {
            assert!(Instant::now() < deadline, "chromedriver not ready in 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
