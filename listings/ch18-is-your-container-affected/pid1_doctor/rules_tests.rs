//! The rules against the corpus of Dockerfiles in the chapter's folder
//! (`dockerfiles/NAME/`, each a small build context), and against a few
//! texts written here.

use super::*;

/// The corpus's folder.
fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("listings/ch18-is-your-container-affected/dockerfiles")
}

/// What the rules find in `dockerfiles/NAME/Dockerfile`: each finding's
/// rule, file name and line.
fn found(name: &str) -> Vec<(Rule, String, usize)> {
    let report = check_file(&corpus().join(name).join("Dockerfile")).expect(name);
    report
        .findings
        .iter()
        .map(|f| {
            let file = f.file.file_name().map(|n| n.to_string_lossy().into_owned());
            (f.rule, file.unwrap_or_default(), f.line)
        })
        .collect()
}

fn at(rule: Rule, file: &str, line: usize) -> (Rule, String, usize) {
    (rule, file.to_string(), line)
}

#[test]
fn the_exec_form_alone_lacks_only_an_init() {
    assert_eq!(found("exec-form"), vec![at(Rule::NoInit, "Dockerfile", 3)]);
}

#[test]
fn the_shell_form_in_its_three_disguises() {
    assert_eq!(
        found("shell-form"),
        vec![
            at(Rule::ShellForm, "Dockerfile", 4),
            at(Rule::NoInit, "Dockerfile", 4)
        ]
    );
    assert_eq!(
        found("single-quotes"),
        vec![
            at(Rule::NotJson, "Dockerfile", 3),
            at(Rule::NoInit, "Dockerfile", 3)
        ]
    );
    assert_eq!(
        found("sh-c-in-exec-form"),
        vec![
            at(Rule::ShellInExecForm, "Dockerfile", 4),
            at(Rule::NoInit, "Dockerfile", 4)
        ]
    );
    let report = check_file(&corpus().join("shell-form/Dockerfile")).expect("parses");
    assert!(
        report.findings[0]
            .message
            .contains("`CMD [\"app\", \"--port\", \"8080\"]`"),
        "{}",
        report.findings[0].message
    );
}

#[test]
fn a_script_is_read_from_the_context_or_the_heredoc() {
    assert_eq!(
        found("script-without-exec"),
        vec![
            at(Rule::ScriptWithoutExec, "entrypoint.sh", 6),
            at(Rule::NoInit, "Dockerfile", 4)
        ]
    );
    // The heredoc's script is in the Dockerfile: its lines are the file's.
    assert_eq!(
        found("heredoc-script"),
        vec![
            at(Rule::ScriptWithoutExec, "Dockerfile", 7),
            at(Rule::NoInit, "Dockerfile", 9)
        ]
    );
}

#[test]
fn an_init_or_a_word_about_init_is_enough() {
    assert_eq!(found("script-with-exec-and-tini"), vec![]);
    assert_eq!(found("foster"), vec![]);
    assert_eq!(found("init-in-compose"), vec![]);
}

#[test]
fn an_init_installed_but_not_run_is_named() {
    let report = check_file(&corpus().join("tini-installed-unused/Dockerfile")).expect("parses");
    assert_eq!(report.findings.len(), 1);
    assert!(
        report.findings[0]
            .message
            .contains("tini is installed (line 2)"),
        "{}",
        report.findings[0].message
    );
}

#[test]
fn a_file_that_does_not_parse_is_one_line() {
    let path = corpus().join("broken/Dockerfile");
    let error = check_file(&path).expect_err("CMDD is no instruction");
    assert!(
        error.ends_with("Dockerfile:3: unknown instruction: CMDD"),
        "{error}"
    );
    let missing = check_file(&corpus().join("no-such/Dockerfile")).expect_err("no file");
    assert!(missing.starts_with("cannot read"), "{missing}");
}

/// The rules on a Dockerfile written here, in an empty context.
fn check_text(text: &str) -> Report {
    let parsed = dockerfile::parse(text).expect("parses");
    check(&parsed, Path::new("Dockerfile"), Path::new("/nonexistent"))
}

#[test]
fn stages_and_what_they_inherit() {
    // The final stage inherits ENTRYPOINT and CMD from the stage it is FROM.
    let text =
        "FROM x AS base\nENTRYPOINT [\"tini\", \"--\"]\nCMD [\"app\"]\nFROM base\nRUN true\n";
    assert_eq!(check_text(text).findings, vec![]);
    // ENTRYPOINT resets an inherited CMD, not one of its own stage.
    let text = "FROM x AS base\nCMD app\nFROM base\nENTRYPOINT [\"tini\", \"--\", \"app\"]\n";
    assert_eq!(check_text(text).findings, vec![]);
    // A stage FROM an outside image shows no command: a note, no finding.
    let report = check_text("FROM x AS build\nCMD app\nFROM debian\nRUN true\n");
    assert_eq!(report.findings, vec![]);
    assert!(report.notes[0].contains("base image"));
}

#[test]
fn a_script_outside_the_context_is_a_note() {
    let report = check_text("FROM node\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\"]\n");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("docker-entrypoint.sh")),
        "{:?}",
        report.notes
    );
    assert_eq!(report.findings.len(), 1, "no init");
    // A comment that says --init is used is enough for the init rule.
    let said = check_text("FROM x\n# run with: docker run --init IMAGE\nCMD [\"app\"]\n");
    assert_eq!(said.findings, vec![]);
}
