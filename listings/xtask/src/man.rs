//! The man page `foster.1`, made from the text of `foster --help` so that
//! the two never disagree. The help text has a simple shape: a usage line,
//! paragraphs, option lines that start with two spaces (their continuation
//! lines are indented further), and sections that start with a word or
//! two and a colon ("Environment:", "Exit status:"). Whatever does not fit
//! that shape becomes a plain paragraph: no text is ever dropped.
//!
//! The output is roff for the `man` macros (man(7), groff_man(7)).

/// What the page is about, besides the help text itself.
pub struct Page<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// One line for the NAME section.
    pub summary: &'a str,
    /// The text of `--help`.
    pub usage: &'a str,
    pub license: &'a str,
    /// The SEE ALSO section, e.g. `tini(1), prctl(2)`.
    pub see_also: &'a str,
}

/// A piece of a section.
#[derive(Debug, PartialEq)]
enum Part {
    Paragraph(Vec<String>),
    /// An option (or any indented term) and what it does.
    Item {
        term: String,
        text: Vec<String>,
    },
}

#[derive(Debug, PartialEq)]
struct Section {
    title: String,
    parts: Vec<Part>,
}

/// The whole man page.
pub fn render(page: &Page) -> String {
    let (synopsis, sections) = parse(page.usage);
    let mut out = format!(
        // .nh: no hyphenation, which would split flags and variable names.
        ".TH {} 1 \"\" \"{} {}\" \"User Commands\"\n.nh\n",
        page.name.to_uppercase(),
        escape(page.name),
        escape(page.version)
    );
    out += &format!(
        ".SH NAME\n{} \\- {}\n",
        escape(page.name),
        escape(page.summary)
    );
    if let Some(synopsis) = synopsis {
        out += &format!(".SH SYNOPSIS\n{}\n", styled_words(&synopsis));
    }
    for section in &sections {
        out += &format!(".SH {}\n", escape(&section.title));
        for part in &section.parts {
            out += &render_part(part);
        }
    }
    out += &format!(".SH LICENSE\n{}\n", text_line(page.license));
    out += &format!(".SH SEE ALSO\n{}\n", text_line(page.see_also));
    out
}

fn render_part(part: &Part) -> String {
    match part {
        Part::Paragraph(lines) => {
            let body: Vec<String> = lines.iter().map(|line| text_line(line)).collect();
            format!(".PP\n{}\n", body.join("\n"))
        }
        Part::Item { term, text } => {
            let mut out = format!(".TP\n{}\n", styled_words(term));
            for line in text {
                out += &text_line(line);
                out.push('\n');
            }
            out
        }
    }
}

/// Splits the help text into its usage line (without `usage:`) and its
/// sections. Text before the first heading is the DESCRIPTION, and its
/// option lines go to OPTIONS.
fn parse(usage: &str) -> (Option<String>, Vec<Section>) {
    let mut synopsis = None;
    let mut sections = vec![Section::new("DESCRIPTION")];
    for (index, mut lines) in blocks(usage).into_iter().enumerate() {
        if index == 0 {
            if let Some(rest) = usage_line(lines[0]) {
                synopsis = Some(rest.to_string());
                lines.remove(0);
            }
        }
        let headed = lines.first().copied().and_then(heading);
        if let Some((title, rest)) = headed {
            sections.push(Section::new(&title.to_uppercase()));
            lines[0] = rest;
        }
        let mut block_parts = parts(&lines);
        if headed.is_some() {
            capitalise_first(&mut block_parts);
        }
        for part in block_parts {
            let in_description = sections.len() == 1;
            if in_description && matches!(part, Part::Item { .. }) {
                sections.push(Section::new("OPTIONS"));
            }
            if let Some(section) = sections.last_mut() {
                section.parts.push(part);
            }
        }
    }
    sections.retain(|section| !section.parts.is_empty());
    (synopsis, sections)
}

impl Section {
    fn new(title: &str) -> Section {
        Section {
            title: title.to_string(),
            parts: Vec::new(),
        }
    }
}

/// `Grace: when CMD…` reads `When CMD…` under the heading GRACE.
fn capitalise_first(parts: &mut [Part]) {
    if let Some(Part::Paragraph(lines)) = parts.first_mut() {
        if let Some(line) = lines.first_mut() {
            let mut chars = line.chars();
            if let Some(first) = chars.next() {
                *line = first.to_uppercase().chain(chars).collect();
            }
        }
    }
}

/// Runs of non-blank lines, without their trailing white space.
fn blocks(text: &str) -> Vec<Vec<&str>> {
    let mut blocks = vec![Vec::new()];
    for line in text.lines().map(str::trim_end) {
        match blocks.last_mut() {
            Some(block) if !line.is_empty() => block.push(line),
            Some(block) if !block.is_empty() => blocks.push(Vec::new()),
            _ => {}
        }
    }
    blocks.retain(|block| !block.is_empty());
    blocks
}

/// `usage: foster [OPTIONS]` gives `foster [OPTIONS]`.
fn usage_line(line: &str) -> Option<&str> {
    let (word, rest) = line.split_once(':')?;
    word.eq_ignore_ascii_case("usage")
        .then(|| rest.trim())
        .filter(|rest| !rest.is_empty())
}

/// A section heading at the start of a line: one to three words, only the
/// first capitalised, then a colon and a space or the end of the line
/// (`Exit status: …`; not `Runs CMD: …`). Gives the title and the rest.
fn heading(line: &str) -> Option<(&str, &str)> {
    let (title, rest) = line.split_once(':')?;
    let mut words = title.split(' ');
    let first = words.next()?;
    let capitalised =
        first.starts_with(char::is_uppercase) && first.chars().all(char::is_alphabetic);
    let others: Vec<&str> = words.collect();
    let lowercase = |word: &&str| !word.is_empty() && word.chars().all(char::is_lowercase);
    let ends_there = rest.is_empty() || rest.starts_with(' ');
    (capitalised && ends_there && others.len() <= 2 && others.iter().all(lowercase))
        .then(|| (title, rest.trim_start()))
}

/// A block's lines as paragraphs and items. An item starts on a line
/// indented by some spaces; a line indented further continues it; any
/// other line is paragraph text.
fn parts(lines: &[&str]) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut item_indent = None;
    for &line in lines {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match (parts.last_mut(), item_indent) {
            (Some(Part::Item { text: lines, .. }), Some(at)) if indent > at => {
                lines.push(text.to_string());
                continue;
            }
            _ => {}
        }
        if indent > 0 {
            let (term, text) = split_term(text);
            parts.push(Part::Item {
                term: term.to_string(),
                text: text.into_iter().map(str::to_string).collect(),
            });
            item_indent = Some(indent);
            continue;
        }
        item_indent = None;
        match parts.last_mut() {
            Some(Part::Paragraph(lines)) => lines.push(text.to_string()),
            _ => parts.push(Part::Paragraph(vec![text.to_string()])),
        }
    }
    parts
}

/// `-e CODE        exit 0 when…` gives the term `-e CODE` and the text
/// after the first run of two or more spaces (none if there is none).
fn split_term(line: &str) -> (&str, Option<&str>) {
    match line.find("  ") {
        Some(at) => (&line[..at], Some(line[at..].trim_start())),
        None => (line, None),
    }
}

/// A line of the synopsis or an option's term, styled as man pages do:
/// flags and the program's name in bold, placeholders (`CODE`, `SIG:NEW`)
/// in italics, brackets and commas plain.
fn styled_words(text: &str) -> String {
    let words: Vec<String> = text.split_whitespace().map(styled_word).collect();
    words.join(" ")
}

fn styled_word(word: &str) -> String {
    let start = word.find(|c: char| !"[(".contains(c)).unwrap_or(word.len());
    let end = word
        .rfind(|c: char| !"]),.".contains(c))
        .map_or(start, |at| at + 1)
        .max(start);
    let (open, core, close) = (&word[..start], &word[start..end], &word[end..]);
    let lowercase = core.chars().all(|c| c.is_ascii_lowercase());
    let font = if core.starts_with('-') || is_variable(core) || lowercase {
        "B"
    } else if core
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_:".contains(c))
    {
        "I"
    } else {
        "R"
    };
    let styled = if core.is_empty() || font == "R" {
        escape(core)
    } else {
        format!("\\f{font}{}\\fR", escape(core))
    };
    format!("{}{styled}{}", escape(open), escape(close))
}

/// A line of running text: flags (`-s`, `--grace`) and environment
/// variables (`FOSTER_GRACE`) in bold.
fn text_line(line: &str) -> String {
    let words: Vec<String> = line.split(' ').map(text_word).collect();
    guard_line_start(words.join(" "))
}

fn text_word(word: &str) -> String {
    let start = word
        .find(|c: char| !"(\"'".contains(c))
        .unwrap_or(word.len());
    let end = word
        .rfind(|c: char| !")\"',.;:".contains(c))
        .map_or(start, |at| at + 1)
        .max(start);
    let (open, core, close) = (&word[..start], &word[start..end], &word[end..]);
    if is_flag(core) || is_variable(core) {
        format!("{}\\fB{}\\fR{}", escape(open), escape(core), escape(close))
    } else {
        escape(word)
    }
}

/// `-s`, `-vv`, `--grace`; not `-1` or a lone dash.
fn is_flag(word: &str) -> bool {
    let name = word.strip_prefix("--").or_else(|| word.strip_prefix('-'));
    name.is_some_and(|name| {
        name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// `FOSTER_GRACE`: capitals and digits with at least one underscore.
fn is_variable(word: &str) -> bool {
    word.contains('_')
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// roff reads a backslash as an escape and a line starting with `.` or
/// `'` as a request; `\-` is a real minus sign, which keeps flags
/// copyable (groff_char(7)).
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

fn guard_line_start(line: String) -> String {
    if line.starts_with(['.', '\'']) {
        format!("\\&{line}")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(usage: &str) -> String {
        render(&Page {
            name: "foster",
            version: "9.9.9",
            summary: "an init",
            usage,
            license: "MIT",
            see_also: "tini(1)",
        })
    }

    /// The page as `man` would show its words: requests dropped, fonts and
    /// escapes undone. Enough to compare words, not a roff renderer.
    fn plain(roff: &str) -> String {
        let mut out = String::new();
        for line in roff.lines() {
            let line = match line.strip_prefix('.') {
                Some(request) => request.split_once(' ').map_or("", |(_, args)| args),
                None => line,
            };
            let line = line
                .replace("\\fB", "")
                .replace("\\fI", "")
                .replace("\\fR", "")
                .replace("\\&", "")
                .replace("\\-", "-")
                .replace("\\e", "\\");
            out += &line;
            out.push('\n');
        }
        out
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace()
            .map(|w| w.trim_matches(':').to_lowercase())
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// Every word of `usage` is on the page, in the same order (the page
    /// adds words: its title, NAME, section names).
    fn assert_no_text_lost(usage: &str) {
        let page_words = words(&plain(&page(usage)));
        let mut rest = page_words.iter();
        for word in words(usage).iter().filter(|w| *w != "usage") {
            assert!(
                rest.any(|w| w == word),
                "'{word}' lost or out of order:\n{}",
                page(usage)
            );
        }
    }

    #[test]
    fn foster_help_loses_no_word() {
        assert_no_text_lost(foster::options::USAGE);
    }

    #[test]
    fn odd_shapes_lose_no_word() {
        for usage in [
            "",
            "no usage line at all\njust text",
            "usage:\n\nRuns CMD as its child: not a heading",
            "usage: x\n\n  -a\n        only a continuation\n   -b  three spaces\n\ttabbed line",
            "usage: x\n\nNotes: one\n  TERM  an indented item in a section\nback to text\n\n\n\nAfter: blanks",
            ".starts with a dot\n'and a quote \\ backslash",
            "lowercase: is not a heading either",
        ] {
            assert_no_text_lost(usage);
        }
    }

    /// Every flag and variable foster's parser knows, read from its source
    /// (`Short('g')`, `Long("grace")`, `env("FOSTER_GRACE")`…), is on the
    /// page: a new flag without a line in --help fails here.
    #[test]
    fn the_page_names_every_flag_and_variable_of_the_parser() {
        // `option_env!` names a variable of foster's build (the commit it
        // was built from), not one foster reads when it runs.
        let source = include_str!("../../foster/src/options.rs").replace("option_env!(\"", "");
        let text = plain(&page(foster::options::USAGE));
        let mut names = Vec::new();
        for piece in source.split("Short('").skip(1) {
            names.extend(piece.get(..1).map(|c| format!("-{c}")));
        }
        for piece in source.split("Long(\"").skip(1) {
            names.extend(piece.split('"').next().map(|l| format!("--{l}")));
        }
        for prefix in ["\"FOSTER_", "\"TINI_"] {
            for piece in source.split(prefix).skip(1) {
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                names.push(format!("{}{name}", &prefix[1..]));
            }
        }
        assert!(names.len() > 15, "too few names found: {names:?}");
        for name in names {
            let found = text
                .split(|c: char| c.is_whitespace() || ",()".contains(c))
                .any(|word| word == name);
            assert!(found, "{name} is not on the man page");
        }
    }

    #[test]
    fn sections_options_and_fonts() {
        let roff = page(
            "usage: foster [OPTIONS] [--] CMD [ARGS...]\n\nRuns CMD: it does.\n\n  \
             -e CODE        exit 0\n                 (repeatable)\n  -V, --version  show it\n\n\
             Environment: FOSTER_GRACE (like --grace).\n\nExit status: is 127.",
        );
        assert!(roff.starts_with(".TH FOSTER 1 \"\" \"foster 9.9.9\" \"User Commands\"\n.nh\n"));
        assert!(roff.contains(
            ".SH SYNOPSIS\n\\fBfoster\\fR [\\fIOPTIONS\\fR] [\\fB\\-\\-\\fR] \\fICMD\\fR [\\fIARGS\\fR...]\n"
        ));
        assert!(roff.contains(".SH DESCRIPTION\n.PP\nRuns CMD: it does.\n"));
        assert!(
            roff.contains(".SH OPTIONS\n.TP\n\\fB\\-e\\fR \\fICODE\\fR\nexit 0\n(repeatable)\n")
        );
        assert!(roff.contains(".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nshow it\n"));
        assert!(roff
            .contains(".SH ENVIRONMENT\n.PP\n\\fBFOSTER_GRACE\\fR (like \\fB\\-\\-grace\\fR).\n"));
        assert!(roff.contains(".SH EXIT STATUS\n.PP\nIs 127.\n"));
        assert!(roff.ends_with(".SH LICENSE\nMIT\n.SH SEE ALSO\ntini(1)\n"));
    }

    #[test]
    fn headings_are_short_and_capitalised() {
        assert_eq!(heading("Exit status: 0"), Some(("Exit status", "0")));
        assert_eq!(heading("Grace:"), Some(("Grace", "")));
        assert_eq!(heading("Runs CMD as its child: forwards"), None);
        assert_eq!(heading("Runs CMD: forwards"), None);
        assert_eq!(heading("See also: x"), Some(("See also", "x")));
        assert_eq!(heading("lower: no"), None);
        assert_eq!(heading("Time:5s"), None);
        assert_eq!(heading("  Indented: no"), None);
    }

    #[test]
    fn roff_specials_are_escaped() {
        let roff = page("usage: x\n\n.TH a request\n'quote \\fB not a font");
        assert!(roff.contains("\n\\&.TH a request\n"));
        assert!(roff.contains("\n\\&'quote \\efB not a font\n"));
        assert!(!roff.contains("\n.TH a"));
    }
}
