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

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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

/// How many pictures a chapter asks for: its cmdrun lines with `--picture`.
fn pictures_expected(page: &str) -> usize {
    let source = Path::new(MANIFEST_DIR)
        .join("src")
        .join(page.replace(".html", ".md"));
    std::fs::read_to_string(source)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("<!-- cmdrun") && line.contains("--picture"))
        .count()
}

/// What a page shows, collected in the browser by one script.
const INSPECT_PAGE: &str = r#"
const main = document.querySelector('main');
const text = main ? main.innerText : '';
const tables = [...(main ? main.querySelectorAll('table') : [])].map(table => ({
  headings: [...table.querySelectorAll('thead th')].map(th => th.innerText.trim()),
  rows: [...table.querySelectorAll('tbody tr')].map(tr =>
    [...tr.querySelectorAll('td')].map(td => td.innerText.trim())),
}));
const pictures = [...(main ? main.querySelectorAll('svg.process-tree') : [])].map(svg => {
  const box = svg.getBoundingClientRect();
  return { width: box.width, height: box.height,
           pids: [...svg.querySelectorAll('text')].map(t => t.textContent)
                   .filter(t => /^PID \d+$/.test(t)).length };
});
const sidebar = [...document.querySelectorAll('.sidebar a[href]')]
  .map(a => a.href).filter(href => href.startsWith('file:'));
return { title: document.title, h1: main && main.querySelector('h1') ? main.querySelector('h1').innerText : '',
         text, tables, pictures, sidebar,
         height: Math.ceil((main ? main.getBoundingClientRect().bottom : 0) + window.scrollY) + 200 };
"#;

fn check_chapter(session: &Session, book: &Path, page: &str, screenshots: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push(format!("{page}: {what}"));
    session.open(&file_url(&book.join(page)));
    let seen = session.run(INSPECT_PAGE);
    if seen["h1"].as_str().unwrap_or("").is_empty() {
        problem(format!("no <h1> rendered (title {})", seen["title"]));
    }
    let text = seen["text"].as_str().unwrap_or("");
    if text.contains("cmdrun error") {
        problem("shows 'cmdrun error'".into());
    }
    if text.contains("<!-- cmdrun") {
        problem("shows a raw '<!-- cmdrun' directive".into());
    }
    let tables = seen["tables"].as_array().cloned().unwrap_or_default();
    for table in &tables {
        problems_of_table(table).into_iter().for_each(&mut problem);
    }
    if let Some(missing) = missing_tables(page, tables.len(), text) {
        problem(missing);
    }
    let pictures = seen["pictures"].as_array().cloned().unwrap_or_default();
    let expected = pictures_expected(page);
    if pictures.len() != expected {
        problem(format!(
            "{} pictures drawn, {expected} asked for",
            pictures.len()
        ));
    }
    for picture in &pictures {
        let drawn =
            picture["width"].as_f64() > Some(100.0) && picture["height"].as_f64() > Some(100.0);
        if !drawn || picture["pids"].as_u64() < Some(3) {
            problem(format!("a picture not drawn, or without PIDs: {picture}"));
        }
    }
    for link in seen["sidebar"].as_array().into_iter().flatten() {
        let link = link.as_str().unwrap_or("");
        let path = link.trim_start_matches("file://");
        let path = path.split(['#', '?']).next().unwrap_or(path);
        if !Path::new(&percent_decode(path)).is_file() {
            problem(format!("the sidebar links to {link}, which does not exist"));
        }
    }
    if seen["sidebar"].as_array().map_or(0, Vec::len) < 2 {
        problem("a sidebar with fewer than two links".into());
    }
    let height = seen["height"].as_i64().unwrap_or(1000).clamp(600, 12_000);
    session.resize(1200, height);
    let png = session.screenshot();
    let name = screenshots.join(page.replace(".html", ".png"));
    std::fs::write(&name, png).unwrap_or_else(|e| panic!("write {}: {e}", name.display()));
    problems
}

/// The chapters whose experiments are all tables, and how many: each must
/// be drawn, or replaced by the one "Not run here" line its tool prints.
const TABLES_EXPECTED: &[(&str, usize)] =
    &[("ch13-who-is-pid-1.html", 2), ("ch16-cgroups.html", 3)];

/// What is wrong if `page` shows fewer tables (counting "Not run here"
/// lines in their place) than [`TABLES_EXPECTED`] says.
fn missing_tables(page: &str, tables: usize, text: &str) -> Option<String> {
    let &(_, expected) = TABLES_EXPECTED.iter().find(|(name, _)| *name == page)?;
    let not_run = text.matches(orphans::capability::NOT_RUN).count();
    (tables + not_run < expected).then(|| {
        format!("{tables} tables and {not_run} 'not run' lines, {expected} tables expected")
    })
}

/// A table needs rows; a column headed "PID" holds only numbers.
fn problems_of_table(table: &Value) -> Vec<String> {
    let headings: Vec<&str> = table["headings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let rows = table["rows"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return vec![format!("a table without rows, headed {headings:?}")];
    }
    let pid_columns: Vec<usize> = (0..headings.len())
        .filter(|&i| headings[i] == "PID")
        .collect();
    let mut problems = Vec::new();
    for row in &rows {
        for &column in &pid_columns {
            let cell = row[column].as_str().unwrap_or("");
            if cell.is_empty() || !cell.chars().all(|c| c.is_ascii_digit()) {
                problems.push(format!("a PID that is not a number: {cell:?} in {row}"));
            }
        }
    }
    problems
}

/// Opens the search box on the first page, types `word`, and expects at
/// least one result that links to a chapter.
fn check_search(session: &Session, book: &Path, word: &str) -> Vec<String> {
    session.open(&file_url(&book.join("index.html")));
    session.click("#search-toggle");
    session.type_into("#searchbar", word);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = session
            .run("return [...document.querySelectorAll('#searchresults li a')].map(a => a.href);");
        let links: Vec<&str> = found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if links.iter().any(|link| link.contains("/ch")) {
            return Vec::new();
        }
        if Instant::now() > deadline {
            return vec![format!("searching for '{word}' found nothing: {found}")];
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn file_url(path: &Path) -> String {
    let path = path
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("file://{}", path.display())
}

/// Undoes the `%XX` escapes of a URL's path.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// The handful of W3C WebDriver commands this test needs
/// (<https://www.w3.org/TR/webdriver2/>), over HTTP/1.1 on localhost.
mod webdriver {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use serde_json::{json, Value};

    /// chromedriver's `/status`, or `None` while it is not listening.
    pub fn status(port: u16) -> Option<Value> {
        request(port, "GET", "/status", None).ok()
    }

    /// Sends one request and returns the `value` of the JSON answer; an
    /// error for a refused connection, a malformed answer or a WebDriver
    /// error (whose message it carries).
    fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let mut stream =
            TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
        // A page that never finishes loading must not hang the test.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .map_err(|e| format!("send {method} {path}: {e}"))?;
        // chromedriver keeps the connection open whatever the request says,
        // so the answer ends where its Content-Length says, not at EOF.
        let mut reader = BufReader::new(stream);
        let mut length = None;
        loop {
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("read the answer to {method} {path}: {e}"))?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let length = length.ok_or_else(|| format!("{method} {path}: no Content-Length"))?;
        let mut body = vec![0; length];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("read the answer to {method} {path}: {e}"))?;
        let body = String::from_utf8_lossy(&body);
        let json: Value = serde_json::from_str(&body)
            .map_err(|e| format!("{method} {path}: not JSON ({e}): {body}"))?;
        if let Some(error) = json["value"]["error"].as_str() {
            return Err(format!(
                "{method} {path}: {error}: {}",
                json["value"]["message"]
            ));
        }
        Ok(json["value"].clone())
    }

    /// A browser session; deleted (which closes the browser) on drop.
    pub struct Session {
        port: u16,
        id: String,
    }

    impl Session {
        /// Starts headless Chromium with everything that would reach the
        /// network turned off. As root it needs `--no-sandbox`.
        pub fn start(port: u16, chromium: &str) -> Session {
            let arguments = [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1200,900",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--disable-breakpad",
                "--metrics-recording-only",
                "--no-pings",
                "--no-proxy-server",
                // Any host name but localhost fails to resolve: the book
                // must not need the internet, and must not reach it.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
                // The book is opened from file:// URLs; let its scripts
                // load the search index that sits beside the pages.
                "--allow-file-access-from-files",
            ];
            let capabilities = json!({
                "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": chromium, "args": arguments },
                    "timeouts": { "pageLoad": 60000, "script": 30000 },
                }}
            });
            let answer = request(port, "POST", "/session", Some(&capabilities))
                .unwrap_or_else(|e| panic!("start a browser session: {e}"));
            let id = answer["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no sessionId in {answer}"))
                .to_string();
            Session { port, id }
        }

        fn command(&self, method: &str, what: &str, body: Option<Value>) -> Value {
            let path = format!("/session/{}/{what}", self.id);
            request(self.port, method, &path, body.as_ref()).unwrap_or_else(|e| panic!("{e}"))
        }

        /// Navigates to `url` and returns once the page has loaded.
        pub fn open(&self, url: &str) {
            self.command("POST", "url", Some(json!({ "url": url })));
        }

        /// Runs `script` (a function body) in the page; returns its result.
        pub fn run(&self, script: &str) -> Value {
            self.command(
                "POST",
                "execute/sync",
                Some(json!({ "script": script, "args": [] })),
            )
        }

        fn element(&self, css: &str) -> String {
            let found = self.command(
                "POST",
                "element",
                Some(json!({ "using": "css selector", "value": css })),
            );
            // The W3C name of the key that holds an element's reference.
            found["element-6066-11e4-a52e-4f735466cecf"]
                .as_str()
                .unwrap_or_else(|| panic!("no element {css}: {found}"))
                .to_string()
        }

        pub fn click(&self, css: &str) {
            let id = self.element(css);
            self.command("POST", &format!("element/{id}/click"), Some(json!({})));
        }

        pub fn type_into(&self, css: &str, text: &str) {
            let id = self.element(css);
            self.command(
                "POST",
                &format!("element/{id}/value"),
                Some(json!({ "text": text })),
            );
        }

        pub fn resize(&self, width: i64, height: i64) {
            self.command(
                "POST",
                "window/rect",
                Some(json!({ "width": width, "height": height })),
            );
        }

        /// A PNG of the window.
        pub fn screenshot(&self) -> Vec<u8> {
            let encoded = self.command("GET", "screenshot", None);
            // WebDriver sends the PNG as standard base64 (RFC 4648).
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(encoded.as_str().unwrap_or(""))
                .expect("a screenshot in base64")
        }
    }

    impl Drop for Session {
        fn drop(&mut self) {
            let path = format!("/session/{}", self.id);
            let _ = request(self.port, "DELETE", &path, None);
        }
    }
}
