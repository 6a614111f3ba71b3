//! mdBook's `{{#include FILE}}` and `{{#rustdoc_include FILE}}`, expanded
//! as mdBook 0.4 expands them, for build.rs: it hands the chapters to
//! skeptic, which reads markdown but knows nothing of these directives.
//!
//! Where mdBook quietly puts nothing (an anchor that is not there, a line
//! range past the end or reversed, such as `20:10`) or leaves the directive
//! in the page (a file it cannot read), this refuses, and names the
//! chapter's file and line: a listing shown empty is a mistake to fix, not
//! a page to publish.
//!
//! A crate of its own, with nothing but std, so that the build script can
//! depend on it without building the book's library first.

use std::path::{Path, PathBuf};

/// How deep includes may nest, as in mdBook (`MAX_LINK_NESTED_DEPTH` in
/// its links preprocessor): deeper is taken for a cycle.
const MOST_NESTED: usize = 10;

/// Reads a file; `Err` says why it cannot.
pub type Reader<'a> = dyn FnMut(&Path) -> Result<String, String> + 'a;

/// `text`, the contents of `source` (a chapter, `src/ch05-inside.md`),
/// with every include directive replaced by what mdBook would put there.
/// Files are read through `read`, relative to the folder of the file whose
/// text names them (the chapter's, then the included file's for includes
/// nested in included text), and each one read is added to `inputs`.
///
/// One thing mdBook does not do: a `rustdoc_include` of a file without
/// `fn main` gets a hidden `fn main() {}`, so that skeptic, which compiles
/// every block as a program, can compile a module shown on its own.
pub fn expand(
    text: &str,
    source: &Path,
    read: &mut Reader,
    inputs: &mut Vec<PathBuf>,
) -> Result<String, String> {
    let place = Place {
        file: source.display().to_string(),
        included_at: None,
    };
    let base = source.parent().unwrap_or(Path::new(""));
    expand_in(text, base, &place, 0, read, inputs)
}

/// Where a text comes from, for messages: a file, and for an included
/// text, the directive that included it.
struct Place {
    file: String,
    included_at: Option<String>,
}

impl Place {
    /// `FILE:LINE`, and where FILE was included from, if it was.
    fn at(&self, line: usize) -> String {
        match &self.included_at {
            None => format!("{}:{line}", self.file),
            Some(outer) => format!("{}:{line} (included at {outer})", self.file),
        }
    }
}

fn expand_in(
    text: &str,
    base: &Path,
    place: &Place,
    depth: usize,
    read: &mut Reader,
    inputs: &mut Vec<PathBuf>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    while let Some(found) = text[done..].find("{{") {
        let start = done + found;
        out.push_str(&text[done..start]);
        let Some(directive) = Directive::at(&text[start..]) else {
            out.push_str("{{");
            done = start + 2;
            continue;
        };
        done = start + directive.length;
        let verbatim = &text[start..done];
        // `\{{#include …}}` is mdBook's escape: the directive as text.
        if out.ends_with('\\') {
            out.pop();
            out.push_str(verbatim);
            continue;
        }
        let rustdoc = match directive.command {
            "include" => false,
            "rustdoc_include" => true,
            // {{#title}}, {{#playground}}…: not code; left for mdBook.
            _ => {
                out.push_str(verbatim);
                continue;
            }
        };
        let here = place.at(text[..start].matches('\n').count() + 1);
        if depth >= MOST_NESTED {
            return Err(format!(
                "{here}: includes nested more than {MOST_NESTED} deep (does a file include itself?)"
            ));
        }
        let (file, selector) = directive.file_and_selector();
        let path = base.join(file);
        let source = read(&path).map_err(|e| format!("{here}: cannot read {file}: {e}"))?;
        inputs.push(path.clone());
        let selected =
            select(&source, selector, rustdoc).map_err(|why| format!("{here}: {why} in {file}"))?;
        let inner = Place {
            file: file.to_string(),
            included_at: Some(here),
        };
        let inner_base = path.parent().unwrap_or(Path::new(""));
        out.push_str(&expand_in(
            &selected,
            inner_base,
            &inner,
            depth + 1,
            read,
            inputs,
        )?);
    }
    out.push_str(&text[done..]);
    Ok(out)
}

/// `{{#command argument}}`, the shape mdBook recognises: `{{`, optional
/// white space, `#`, a name of letters, digits and `_`, white space, and
/// an argument without `}`, then `}}`.
struct Directive<'a> {
    command: &'a str,
    argument: &'a str,
    /// Bytes from `{{` to `}}` included.
    length: usize,
}

impl<'a> Directive<'a> {
    /// The directive that `text` starts with, if it starts with one.
    fn at(text: &'a str) -> Option<Directive<'a>> {
        let inner = text.strip_prefix("{{")?;
        let name_and_rest = inner.trim_start().strip_prefix('#')?;
        let name_length = name_and_rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(name_and_rest.len());
        let (command, rest) = name_and_rest.split_at(name_length);
        let end = rest.find('}')?;
        let argument = &rest[..end];
        let well_formed = !command.is_empty()
            && argument.starts_with(char::is_whitespace)
            && !argument.trim().is_empty()
            && rest[end..].starts_with("}}");
        let length = text.len() - rest.len() + end + 2;
        well_formed.then_some(Directive {
            command,
            argument,
            length,
        })
    }

    /// `file.rs:anchor` or `file.rs:10:20` split into the file and what
    /// follows its first colon (words after the first are not ours).
    fn file_and_selector(&self) -> (&'a str, &'a str) {
        let path = self.argument.split_whitespace().next().unwrap_or("");
        path.split_once(':').unwrap_or((path, ""))
    }
}

/// What a selector names.
#[derive(Debug, PartialEq)]
enum Selection<'a> {
    /// Lines `from` to `to`, 0-based, `to` excluded.
    Lines {
        from: usize,
        to: usize,
    },
    Anchor(&'a str),
}

/// The part of `source` that `selector` names, as mdBook renders it. For
/// `rustdoc_include` the lines outside the selection stay, hidden behind
/// `# `, so that the block still compiles as the whole file.
fn select(source: &str, selector: &str, rustdoc: bool) -> Result<String, String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut shown = match parse_selector(selector, lines.len())? {
        Selection::Lines { from, to } => lines_between(&lines, from, to, rustdoc),
        Selection::Anchor(name) => anchored(&lines, name, rustdoc)?,
    };
    if rustdoc && !source.contains("fn main") {
        shown.push_str("\n# fn main() {}");
    }
    Ok(shown)
}

/// mdBook's selectors: empty (the whole file), `N` (line N), `N:M`
/// (lines N to M, both included), `N:`, `:M`, or an anchor's name; lines
/// count from 1. Unlike mdBook, a line outside the file or a reversed range
/// is an error here.
fn parse_selector(selector: &str, count: usize) -> Result<Selection<'_>, String> {
    let mut parts = selector.splitn(3, ':');
    let first = parts.next().unwrap_or("");
    let second = parts.next();
    let from = match first.parse::<usize>() {
        Ok(line) => line,
        Err(_) if first.is_empty() => 1,
        Err(_) => return Ok(Selection::Anchor(first)),
    };
    let to = match second {
        // `N` alone is the one line N; `:` with no number is the whole file.
        None if first.is_empty() => count,
        None => from,
        Some(end) => end.parse::<usize>().unwrap_or(count),
    };
    let line_exists = |line: usize| (1..=count).contains(&line);
    if !line_exists(from) {
        return Err(format!(
            "no line {from} (lines go from 1 to {count}) for '{selector}'"
        ));
    }
    if to < from {
        return Err(format!("reversed line range '{selector}'"));
    }
    if !line_exists(to) {
        return Err(format!(
            "no line {to} (lines go from 1 to {count}) for '{selector}'"
        ));
    }
    Ok(Selection::Lines { from: from - 1, to })
}

/// Lines `from..to`; for rustdoc, every line, those outside hidden.
fn lines_between(lines: &[&str], from: usize, to: usize, rustdoc: bool) -> String {
    let mut shown = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if (from..to).contains(&index) {
            shown.push(line.to_string());
        } else if rustdoc {
            shown.push(format!("# {line}"));
        }
    }
    shown.join("\n")
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name` (every such
/// section, if the name comes back), without the lines that mark anchors;
/// for rustdoc, the other lines too, hidden.
fn anchored(lines: &[&str], name: &str, rustdoc: bool) -> Result<String, String> {
    let mut shown = Vec::new();
    let (mut inside, mut seen) = (false, false);
    for line in lines {
        let starts = anchor_name(line, "ANCHOR:");
        let ends = anchor_name(line, "ANCHOR_END:");
        if starts == Some(name) {
            (inside, seen) = (true, true);
        } else if inside && ends == Some(name) {
            inside = false;
        } else if starts.is_some() || ends.is_some() {
            // Another anchor's marker: never shown.
        } else if inside {
            shown.push(line.to_string());
        } else if rustdoc {
            shown.push(format!("# {line}"));
        }
    }
    match (seen, inside) {
        (false, _) => Err(format!("no anchor '{name}'")),
        (true, true) => Err(format!("no ANCHOR_END for anchor '{name}'")),
        (true, false) => Ok(shown.join("\n")),
    }
}

/// The name after `marker` in `line` (`// ANCHOR: main` gives `main`): as
/// mdBook reads it, letters, digits, `_` and `-`.
pub fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let after = line[line.find(marker)? + marker.len()..].trim_start();
    let length = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(after.len());
    (length > 0).then(|| &after[..length])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A listing with two anchors (built from lines, so that
    /// .ci/check-anchors does not take them for anchors of this file).
    const LISTING: &str = concat!(
        "use x;\n",
        "// ANCHOR: main\n",
        "fn main() {}\n",
        "// ANCHOR_END: main\n",
        "// ANCHOR: other\n",
        "fn other() {}\n",
        "// ANCHOR_END: other",
    );

    /// `expand` of the chapter `src/ch.md` with `text`, over these files.
    fn expanded(text: &str, files: &[(&str, &str)]) -> Result<String, String> {
        let files: HashMap<PathBuf, String> = files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), text.to_string()))
            .collect();
        let mut read = |path: &Path| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| "No such file".to_string())
        };
        expand(text, Path::new("src/ch.md"), &mut read, &mut Vec::new())
    }

    fn listing(text: &str) -> Result<String, String> {
        expanded(text, &[("src/../l/a.rs", LISTING)])
    }

    #[test]
    fn anchors_and_ranges_select_as_mdbook_does() {
        for (text, expected) in [
            ("{{#include ../l/a.rs:main}}", "fn main() {}"),
            ("{{#include ../l/a.rs:3}}", "fn main() {}"),
            (
                "{{#include ../l/a.rs:5:6}}",
                "// ANCHOR: other\nfn other() {}",
            ),
            (
                "{{#include ../l/a.rs:6:}}",
                "fn other() {}\n// ANCHOR_END: other",
            ),
            ("{{#include ../l/a.rs:1:7}}", LISTING),
            ("{{#include ../l/a.rs}}", LISTING),
            (
                "A {{#rustdoc_include ../l/a.rs:other}} B",
                "A # use x;\n# fn main() {}\nfn other() {} B",
            ),
            (
                "{{#include ../l/a.rs:main}} \\{{#include x}} {{#title T}}",
                "fn main() {} {{#include x}} {{#title T}}",
            ),
        ] {
            assert_eq!(listing(text), Ok(expected.to_string()), "{text}");
        }
    }

    #[test]
    fn what_does_not_resolve_is_an_error_at_the_chapters_line() {
        for (text, message) in [
            (
                "{{#include ../l/a.rs:nope}}",
                "src/ch.md:1: no anchor 'nope' in ../l/a.rs",
            ),
            (
                "\n\n{{#include ../l/b.rs}}",
                "src/ch.md:3: cannot read ../l/b.rs: No such file",
            ),
            (
                "{{#include ../l/a.rs:6:2}}",
                "src/ch.md:1: reversed line range '6:2' in ../l/a.rs",
            ),
            (
                "{{#include ../l/a.rs:8}}",
                "src/ch.md:1: no line 8 (lines go from 1 to 7)",
            ),
            ("{{#include ../l/a.rs:0:2}}", "src/ch.md:1: no line 0"),
            ("{{#include ../l/a.rs:2:9}}", "src/ch.md:1: no line 9"),
        ] {
            let error = listing(text).unwrap_err();
            assert!(error.starts_with(message), "{text}: {error}");
        }
        let unended = expanded("{{#include a.rs:x}}", &[("src/a.rs", "// ANCHOR: x\n1")]);
        assert_eq!(
            unended,
            Err("src/ch.md:1: no ANCHOR_END for anchor 'x' in a.rs".into())
        );
    }

    #[test]
    fn includes_nest_relative_to_the_included_file() {
        let files = [
            ("src/../l/outer.md", "outer\n{{#include inner/i.md:2}}"),
            ("src/../l/inner/i.md", "no\nyes"),
            ("src/../l/bad.md", "\n{{#include inner/i.md:x}}"),
            ("src/../l/loop.md", "{{#include loop.md}}"),
        ];
        assert_eq!(
            expanded("{{#include ../l/outer.md}}", &files),
            Ok("outer\nyes".into())
        );
        assert_eq!(
            expanded("\n{{#include ../l/bad.md}}", &files),
            Err("../l/bad.md:2 (included at src/ch.md:2): no anchor 'x' in inner/i.md".into())
        );
        let cycle = expanded("{{#include ../l/loop.md}}", &files).unwrap_err();
        assert!(cycle.contains("nested more than 10 deep"), "{cycle}");
    }

    #[test]
    fn anchor_names_are_words() {
        assert_eq!(anchor_name("// ANCHOR: main", "ANCHOR:"), Some("main"));
        assert_eq!(
            anchor_name("/* ANCHOR:exit_on-term */", "ANCHOR:"),
            Some("exit_on-term")
        );
        assert_eq!(anchor_name("// ANCHOR_END: main", "ANCHOR:"), None);
        assert_eq!(anchor_name("// ANCHOR:", "ANCHOR:"), None);
    }
}
