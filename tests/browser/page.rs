//! What a chapter page must show: a title, tables with rows and numeric
//! PIDs, the pictures its markdown asks for, no cmdrun failure, a sidebar
//! whose links lead somewhere; and a search box that finds chapters.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::webdriver::Session;
use crate::MANIFEST_DIR;

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

pub fn check_chapter(
    session: &Session,
    book: &Path,
    page: &str,
    screenshots: &Path,
) -> Vec<String> {
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
pub fn check_search(session: &Session, book: &Path, word: &str) -> Vec<String> {
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

pub fn file_url(path: &Path) -> String {
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
