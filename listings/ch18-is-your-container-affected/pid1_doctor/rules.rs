//! `pid1-doctor --dockerfile`: the static side. What an image's Dockerfile
//! (and the entrypoint script it copies from its build context) says about
//! who will be PID 1, before any container runs:
//!
//! - `CMD` or `ENTRYPOINT` in the shell form (or an exec form that runs
//!   `sh -c` itself, or one that is not JSON and so is the shell form);
//! - an entrypoint script whose last command runs without `exec`;
//! - no init in the image, and nothing saying the container gets `--init`.
//!
//! The rules read the final build stage, following `FROM` back through
//! earlier stages of the same file for what it inherits.

use std::path::{Path, PathBuf};

use crate::context::script_text;
use crate::dockerfile::{self, form, Dockerfile, Form, Instruction};
use crate::inits::last_part;
use crate::script;

/// Which rule a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    ShellForm,
    NotJson,
    ShellInExecForm,
    ScriptWithoutExec,
    NoInit,
}

impl Rule {
    /// A short name, for `--json`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ShellForm => "shell-form",
            Rule::NotJson => "not-json",
            Rule::ShellInExecForm => "shell-in-exec-form",
            Rule::ScriptWithoutExec => "script-without-exec",
            Rule::NoInit => "no-init",
        }
    }
}

/// One problem, where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file: the Dockerfile or the script, as the user named it.
    pub file: PathBuf,
    pub line: usize,
    pub rule: Rule,
    pub message: String,
}

/// What the rules found, and what they could not check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// Program names that are inits (s6-overlay's is `/init`).
const INITS: [&str; 9] = [
    "tini",
    "tini-static",
    "dumb-init",
    "catatonit",
    "foster",
    "s6-svscan",
    "systemd",
    "init",
    "docker-init",
];

/// Shells that may run a command given with `-c`, or a script.
const SHELLS: [&str; 6] = ["sh", "bash", "dash", "ash", "zsh", "ksh"];

/// Reads the Dockerfile at `path`, and the build context around it (its
/// directory), and applies the rules. `Err` is one line: the file cannot
/// be read, or does not parse (`PATH:LINE: what`).
pub fn check_file(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let parsed = dockerfile::parse(&text)
        .map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.message))?;
    let context = path.parent().unwrap_or(Path::new("."));
    Ok(check(&parsed, path, context))
}

/// The command a container of the image runs: ENTRYPOINT and CMD as the
/// final stage sets or inherits them.
#[derive(Default)]
struct Command<'a> {
    entrypoint: Option<&'a Instruction>,
    cmd: Option<&'a Instruction>,
    /// The instructions of the stages it runs through, first stage first.
    chain: Vec<&'a Instruction>,
}

/// Applies every rule to `parsed`, read from `path` in the build context
/// `context`.
pub fn check(parsed: &Dockerfile, path: &Path, context: &Path) -> Report {
    let mut report = Report::default();
    let command = final_command(parsed);
    let at = |line: usize, rule: Rule, message: String| Finding {
        file: path.to_path_buf(),
        line,
        rule,
        message,
    };
    for instruction in [command.entrypoint, command.cmd].into_iter().flatten() {
        report.findings.extend(
            form_finding(instruction).map(|(rule, message)| at(instruction.line, rule, message)),
        );
    }
    let words = run_words(&command);
    if words.is_empty() {
        report.notes.push(
            "no CMD or ENTRYPOINT here: the container runs its base image's, which this file does not show"
                .into(),
        );
        return report;
    }
    let program = after_init(&words);
    if let Some(script) = script_of(program) {
        match script_text(&command.chain, script, context) {
            Some((file, offset, text)) => {
                report
                    .findings
                    .extend(script_finding(&text).map(|(line, message)| Finding {
                        file: file.unwrap_or_else(|| path.to_path_buf()),
                        line: line + offset,
                        rule: Rule::ScriptWithoutExec,
                        message,
                    }))
            }
            None => report.notes.push(format!(
                "{script} is not copied from the build context: its last command is not checked"
            )),
        }
    }
    if program.len() == words.len() && !says_init(parsed, context) {
        let line = command.entrypoint.or(command.cmd).map_or(1, |i| i.line);
        report.findings.push(at(
            line,
            Rule::NoInit,
            no_init_message(&words, &command.chain),
        ));
    }
    report
}

/// ENTRYPOINT and CMD of the final stage, and the stages it inherits from.
/// `ENTRYPOINT` in a stage resets a `CMD` the stage inherited (as Docker
/// does), not one it sets itself.
fn final_command(parsed: &Dockerfile) -> Command<'_> {
    let stages = stages(parsed);
    let mut chain_stages = Vec::new();
    let mut next = stages.len().checked_sub(1);
    while let Some(index) = next {
        chain_stages.push(index);
        let base = stages[index].0.as_str();
        next = stages[..index]
            .iter()
            .rposition(|(_, alias, _)| alias.as_deref() == Some(base));
    }
    let mut command = Command::default();
    for index in chain_stages.into_iter().rev() {
        let mut cmd_set = false;
        for instruction in &stages[index].2 {
            command.chain.push(instruction);
            match instruction.keyword.as_str() {
                "CMD" => {
                    command.cmd = Some(instruction);
                    cmd_set = true;
                }
                "ENTRYPOINT" => {
                    command.entrypoint = Some(instruction);
                    if !cmd_set {
                        command.cmd = None;
                    }
                }
                _ => {}
            }
        }
    }
    command
}

/// The stages: each one's base (`FROM BASE`), its alias (`AS NAME`) and its
/// instructions (the FROM included).
fn stages(parsed: &Dockerfile) -> Vec<(String, Option<String>, Vec<&Instruction>)> {
    let mut stages: Vec<(String, Option<String>, Vec<&Instruction>)> = Vec::new();
    for instruction in &parsed.instructions {
        if instruction.keyword == "FROM" {
            let words: Vec<&str> = instruction
                .arguments
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let base = words.first().unwrap_or(&"").to_string();
            let alias = match words.get(1..3) {
                Some([as_word, name]) if as_word.eq_ignore_ascii_case("as") => {
                    Some(name.to_string())
                }
                _ => None,
            };
            stages.push((base, alias, vec![instruction]));
        } else if let Some(stage) = stages.last_mut() {
            stage.2.push(instruction);
        }
    }
    stages
}

/// The shell-form rules for one CMD or ENTRYPOINT.
fn form_finding(instruction: &Instruction) -> Option<(Rule, String)> {
    let keyword = &instruction.keyword;
    match form(&instruction.arguments) {
        Form::Shell(text) => Some((Rule::ShellForm, format!(
            "{keyword} in the shell form: Docker runs `/bin/sh -c \"{text}\"`, and with dash as /bin/sh (Debian, Ubuntu) the shell stays PID 1 and drops SIGTERM (chapter 13); write the exec form{}",
            exec_form_of(keyword, &text)
        ))),
        Form::NotJson(text) => Some((Rule::NotJson, format!(
            "{keyword} {text} is not a JSON array (JSON wants double quotes), so Docker runs it in the shell form, with /bin/sh as PID 1 (chapter 13)"
        ))),
        Form::Exec(words) if runs_shell_command(&words) => Some((Rule::ShellInExecForm, format!(
            "{keyword} runs `{} -c` itself: the shell form in JSON, with the shell as PID 1 (chapter 13); run the program directly",
            words[0]
        ))),
        Form::Exec(_) => None,
    }
}

/// ` (`KEYWORD ["a", "b"]`)` for a command of plain words; nothing for one
/// that needs the shell (quotes, variables, pipes).
fn exec_form_of(keyword: &str, text: &str) -> String {
    if text.contains(['"', '\'', '$', '|', '&', ';', '<', '>', '*', '`']) {
        return String::new();
    }
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{w}\""))
        .collect();
    format!(", `{keyword} [{}]`", words.join(", "))
}

/// Whether exec-form `words` start a shell with `-c`.
fn runs_shell_command(words: &[String]) -> bool {
    words
        .first()
        .is_some_and(|w| SHELLS.contains(&last_part(w)))
        && words
            .iter()
            .skip(1)
            .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('c'))
}

/// The words the container runs: ENTRYPOINT's (exec form), then CMD's
/// unless ENTRYPOINT is in the shell form, which ignores CMD. A shell-form
/// part counts as the shell's words.
fn run_words(command: &Command) -> Vec<String> {
    let words_of = |instruction: &Instruction| match form(&instruction.arguments) {
        Form::Exec(words) => words,
        Form::Shell(text) | Form::NotJson(text) => vec!["/bin/sh".into(), "-c".into(), text],
    };
    let mut words = Vec::new();
    if let Some(entrypoint) = command.entrypoint {
        words = words_of(entrypoint);
        if !matches!(form(&entrypoint.arguments), Form::Exec(_)) {
            return words;
        }
    }
    if let Some(cmd) = command.cmd {
        words.extend(words_of(cmd));
    }
    words
}

/// The words after an init and its options (`tini -s -- app` → `app`),
/// or all of them when the first is no init.
fn after_init(words: &[String]) -> &[String] {
    let is_init = words.first().is_some_and(|w| INITS.contains(&last_part(w)));
    if !is_init {
        return words;
    }
    let rest = &words[1..];
    match rest.iter().position(|w| w == "--") {
        Some(dashes) => &rest[dashes + 1..],
        None => {
            let options = rest.iter().take_while(|w| w.starts_with('-')).count();
            &rest[options..]
        }
    }
}

/// The script a command runs, if it runs one: `/entrypoint.sh ARGS`, or
/// `sh /entrypoint.sh ARGS`.
fn script_of(words: &[String]) -> Option<&str> {
    let first = words.first()?;
    if SHELLS.contains(&last_part(first)) {
        let rest: Vec<&String> = words[1..].iter().collect();
        if rest
            .iter()
            .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('c'))
        {
            return None;
        }
        return rest
            .into_iter()
            .find(|w| !w.starts_with('-'))
            .map(String::as_str);
    }
    (first.ends_with(".sh") || last_part(first).contains("entrypoint")).then_some(first.as_str())
}

/// The script rule: its last command, unless that is an `exec`.
fn script_finding(text: &str) -> Option<(usize, String)> {
    let last = script::last_command(text)?;
    if last.execs {
        return None;
    }
    let trap = match script::forwarding_trap(text) {
        Some(line) => format!(
            " (the trap on line {line} passes one signal to one child: an init passes them all)"
        ),
        None => String::new(),
    };
    Some((last.line, format!(
        "the entrypoint script's last command, `{}`, runs without exec: the shell stays PID 1 and the program never hears SIGTERM{trap}; write `exec {}` (chapter 13)",
        last.text,
        last.text.trim_end_matches('&').trim()
    )))
}

/// Whether the Dockerfile or a compose file beside it says that the
/// container runs with `--init`: a comment that mentions `--init`, or
/// `init: true` in compose.yaml (docker-compose.yml, …).
fn says_init(parsed: &Dockerfile, context: &Path) -> bool {
    let in_a_comment = parsed
        .comments
        .iter()
        .any(|(_, text)| text.contains("--init"));
    let compose = [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yaml",
        "docker-compose.yml",
    ];
    in_a_comment
        || compose.iter().any(|name| {
            std::fs::read_to_string(context.join(name)).is_ok_and(|text| {
                text.lines()
                    .any(|l| l.trim().replace(' ', "") == "init:true")
            })
        })
}

/// The no-init rule's message, naming an init the image installs but does
/// not run, if any.
fn no_init_message(words: &[String], chain: &[&Instruction]) -> String {
    let installed = chain.iter().find_map(|instruction| {
        let installs = matches!(instruction.keyword.as_str(), "RUN" | "COPY" | "ADD");
        let named = instruction
            .arguments
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .find(|w| INITS[..6].contains(w));
        installs
            .then_some(named)
            .flatten()
            .map(|name| (name, instruction.line))
    });
    let unused = match installed {
        Some((name, line)) => {
            format!(" {name} is installed (line {line}) but does not run as PID 1.")
        }
        None => String::new(),
    };
    format!(
        "no init: nothing in front of the command (`{}`) reaps orphans and passes signals on as PID 1, and nothing here says the container runs with `--init` (chapter 8).{unused} Make an init the ENTRYPOINT (foster or tini: `ENTRYPOINT [\"/usr/local/bin/foster\", \"--\"]`), or say in a comment that it runs with `--init`",
        words.join(" ")
    )
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
