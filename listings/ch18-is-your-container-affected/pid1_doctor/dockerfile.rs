//! A Dockerfile parser, as far as the doctor needs one: instructions with
//! the line they start on, continuation lines joined, comments kept (one
//! may say that the container runs with `--init`), heredocs read
//! (`COPY <<EOF /entrypoint.sh` puts a whole script in the Dockerfile).
//! It follows the Dockerfile reference: parser directives at the top
//! (`# escape=`), the escape character at a line's end continues it,
//! comment lines inside a continuation are dropped.

/// The instructions of the Dockerfile reference.
const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// One instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The line it starts on, from 1.
    pub line: usize,
    /// The keyword, in capitals.
    pub keyword: String,
    /// Everything after the keyword, continuation lines joined by a space.
    pub arguments: String,
    /// The heredocs it opens (`<<EOF`), in order.
    pub heredocs: Vec<Heredoc>,
}

/// A heredoc's text, and the line its text starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    pub first_line: usize,
    pub text: String,
}

/// A parsed Dockerfile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
    /// Comment lines (not parser directives), with their line numbers.
    pub comments: Vec<(usize, String)>,
}

/// Why a Dockerfile does not parse: the line, and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// How `CMD`, `ENTRYPOINT` (and `SHELL`) give their command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// A JSON array: the program and its arguments, run as they are.
    Exec(Vec<String>),
    /// A plain string, run by the image's shell (`/bin/sh -c STRING`).
    Shell(String),
    /// Starts with `[` but is not a JSON array of strings (single quotes,
    /// say): Docker then takes it as the shell form.
    NotJson(String),
}

// ANCHOR: form
/// The form of an instruction's arguments.
pub fn form(arguments: &str) -> Form {
    let text = arguments.trim();
    if !text.starts_with('[') {
        return Form::Shell(text.to_string());
    }
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(words) => Form::Exec(words),
        Err(_) => Form::NotJson(text.to_string()),
    }
}
// ANCHOR_END: form

/// Parses `text`; `Err` for what Docker would refuse too: an unknown
/// instruction, an unterminated heredoc, no instruction at all, or an
/// instruction before the first `FROM` other than `ARG`.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let (escape, mut at) = directives(&lines);
    let mut dockerfile = Dockerfile::default();
    while at < lines.len() {
        let trimmed = lines[at].trim();
        if trimmed.is_empty() {
            at += 1;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            dockerfile
                .comments
                .push((at + 1, comment.trim().to_string()));
            at += 1;
            continue;
        }
        let first = at;
        let (logical, next) = logical_line(&lines, at, escape);
        at = next;
        let (word, arguments) = logical
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((logical.trim(), ""));
        let keyword = word.to_ascii_uppercase();
        if !KEYWORDS.contains(&keyword.as_str()) {
            return Err(ParseError {
                line: first + 1,
                message: format!("unknown instruction: {word}"),
            });
        }
        let mut heredocs = Vec::new();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredoc_names(arguments) {
                let (heredoc, next) = heredoc(&lines, at, &name, strip_tabs).ok_or(ParseError {
                    line: first + 1,
                    message: format!("the heredoc <<{name} never ends"),
                })?;
                heredocs.push(heredoc);
                at = next;
            }
        }
        dockerfile.instructions.push(Instruction {
            line: first + 1,
            keyword,
            arguments: arguments.trim().to_string(),
            heredocs,
        });
    }
    check_order(&dockerfile)?;
    Ok(dockerfile)
}

/// The escape character the parser directives name (`\` unless
/// `# escape=``), and the index of the first line after them. Directives
/// stop at the first line of any other kind.
fn directives(lines: &[&str]) -> (char, usize) {
    let mut escape = '\\';
    let mut at = 0;
    while let Some(line) = lines.get(at) {
        let Some((name, value)) = line
            .trim()
            .strip_prefix('#')
            .and_then(|rest| rest.split_once('='))
        else {
            break;
        };
        let name = name.trim().to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            break;
        }
        if name == "escape" && value.trim() == "`" {
            escape = '`';
        }
        at += 1;
    }
    (escape, at)
}

/// The instruction that starts at `lines[at]`, continuation lines joined,
/// and the index of the line after it. Inside a continuation, comment and
/// blank lines are skipped, as Docker does.
fn logical_line(lines: &[&str], mut at: usize, escape: char) -> (String, usize) {
    let mut logical = String::new();
    loop {
        let line = lines[at].trim_end();
        at += 1;
        match line.strip_suffix(escape) {
            Some(start) => {
                logical.push_str(start);
                logical.push(' ');
                while at < lines.len() && {
                    let next = lines[at].trim();
                    next.is_empty() || next.starts_with('#')
                } {
                    at += 1;
                }
                if at >= lines.len() {
                    return (logical, at);
                }
            }
            None => {
                logical.push_str(line);
                return (logical, at);
            }
        }
    }
}

/// The heredocs an instruction opens: `<<EOF`, `<<-EOF` (leading tabs
/// stripped), with the word possibly quoted; not `<<<`.
fn heredoc_names(arguments: &str) -> Vec<(String, bool)> {
    let mut names = Vec::new();
    let mut rest = arguments;
    while let Some(at) = rest.find("<<") {
        rest = &rest[at + 2..];
        if rest.starts_with('<') {
            rest = rest.trim_start_matches('<');
            continue;
        }
        let strip_tabs = rest.starts_with('-');
        let word = rest.trim_start_matches('-').trim_start_matches(['"', '\'']);
        let name: String = word
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.push((name, strip_tabs));
        }
    }
    names
}

/// The text of a heredoc whose body starts at `lines[at]`, up to the line
/// that is `name` alone; and the index after that line. `None` if no line
/// ends it.
fn heredoc(lines: &[&str], at: usize, name: &str, strip_tabs: bool) -> Option<(Heredoc, usize)> {
    let mut text = String::new();
    for (index, line) in lines.iter().enumerate().skip(at) {
        let line = if strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        if line == name {
            let heredoc = Heredoc {
                first_line: at + 1,
                text,
            };
            return Some((heredoc, index + 1));
        }
        text.push_str(line);
        text.push('\n');
    }
    None
}

/// At least one instruction, and `FROM` before anything but `ARG`.
fn check_order(dockerfile: &Dockerfile) -> Result<(), ParseError> {
    let first = dockerfile
        .instructions
        .iter()
        .find(|i| i.keyword != "ARG")
        .ok_or(ParseError {
            line: 1,
            message: "no build instruction (FROM)".into(),
        })?;
    if first.keyword != "FROM" {
        return Err(ParseError {
            line: first.line,
            message: format!("{} before the first FROM", first.keyword),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_keep_their_first_line() {
        let text = "# syntax=docker/dockerfile:1\nFROM scratch AS base\n\n# run with --init\nRUN a \\\n  # a comment inside\n  b\ncmd [\"app\"]\n";
        let parsed = parse(text).expect("parses");
        let lines: Vec<(usize, &str, &str)> = parsed
            .instructions
            .iter()
            .map(|i| (i.line, i.keyword.as_str(), i.arguments.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (2, "FROM", "scratch AS base"),
                (5, "RUN", "a    b"),
                (8, "CMD", "[\"app\"]")
            ]
        );
        assert_eq!(parsed.comments, vec![(4, "run with --init".to_string())]);
    }

    #[test]
    fn the_escape_directive_and_heredocs() {
        let text = "# escape=`\nFROM x\nRUN a `\n b\nCOPY <<EOF /entrypoint.sh\n#!/bin/sh\nexec \"$@\"\nEOF\nCMD app\n";
        let parsed = parse(text).expect("parses");
        assert_eq!(parsed.instructions[1].arguments, "a   b");
        let copy = &parsed.instructions[2];
        assert_eq!(copy.heredocs[0].first_line, 6);
        assert_eq!(copy.heredocs[0].text, "#!/bin/sh\nexec \"$@\"\n");
        assert_eq!(parsed.instructions[3].line, 9);
    }

    #[test]
    fn the_three_forms() {
        assert_eq!(
            form("[\"app\", \"-v\"]"),
            Form::Exec(vec!["app".into(), "-v".into()])
        );
        assert_eq!(form("app -v"), Form::Shell("app -v".into()));
        assert_eq!(form("['app']"), Form::NotJson("['app']".into()));
    }

    #[test]
    fn what_docker_refuses_the_parser_refuses() {
        for (text, line, words) in [
            ("FROM x\nRUNN a\n", 2, "unknown instruction: RUNN"),
            ("FROM x\nRUN <<EOF\nnever ends\n", 2, "never ends"),
            ("# only a comment\n", 1, "no build instruction"),
            ("ARG V=1\nCMD app\n", 2, "CMD before the first FROM"),
        ] {
            let error = parse(text).expect_err(text);
            assert_eq!(error.line, line, "{text}");
            assert!(error.message.contains(words), "{}", error.message);
        }
    }
}
