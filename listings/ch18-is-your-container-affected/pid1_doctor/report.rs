//! What the doctor prints: a few labelled lines per container (or one line
//! per finding in a Dockerfile), or JSON for scripts.

use serde_json::{json, Value};

use crate::container::Inspected;
use crate::inits::ShellRun;
use crate::rules;
use crate::signals;
use crate::verdict::{self, Facts, Judgement, OrphanTest, Verdict};

/// How many zombies a text report lists by PID.
const LISTED: usize = 8;

/// The text report on one container.
pub fn text(inspected: &Inspected, facts: &Facts, judgement: &Judgement) -> String {
    let mut lines = vec![format!(
        "{} ({} {})",
        inspected.name, facts.engine, inspected.id
    )];
    let mut add = |label: &str, value: String| lines.push(format!("  {label:<12} {value}"));
    add(
        "PID 1",
        format!(
            "{} [host PID {}]",
            shorten(&facts.pid1.args.join(" ")),
            facts.pid1.host_pid
        ),
    );
    if let Some(first) = &facts.first {
        add(
            "first",
            format!(
                "PID {} `{}`: the container joined another's PID namespace",
                first.pid, first.comm
            ),
        );
    }
    add(
        "init",
        match &facts.init {
            Some((init, mode)) => format!("{}: {}", init.name(), mode.words),
            None => "none".into(),
        },
    );
    add("shell form", shell_form(facts));
    add("stop signal", stop_signal(facts));
    add("zombies now", zombies(facts));
    if let Some(test) = &facts.orphan_test {
        add(
            "orphan test",
            match test {
                OrphanTest::Reaped { milliseconds } => {
                    format!("reaped by PID 1 within {milliseconds} ms")
                }
                OrphanTest::Stayed { pid, .. } => {
                    format!("not reaped: PID {pid} stays a zombie until the container ends")
                }
            },
        );
    }
    add(
        "reaping",
        answer(judgement.zombies.problem, &judgement.zombies.because),
    );
    add(
        "stopping",
        answer(judgement.stop.problem, &judgement.stop.because),
    );
    add("verdict", verdict_line(judgement));
    if !judgement.fix.is_empty() {
        add("fix", judgement.fix.clone());
    }
    for note in &judgement.notes {
        add("note", note.clone());
    }
    lines.join("\n")
}

/// `ok: …` or `PROBLEM: …`.
fn answer(problem: bool, because: &str) -> String {
    format!("{}: {because}", if problem { "PROBLEM" } else { "ok" })
}

/// The verdict and the chapters that explain it.
pub fn verdict_line(judgement: &Judgement) -> String {
    let chapters: Vec<String> = judgement.chapters.iter().map(u32::to_string).collect();
    match chapters.as_slice() {
        [] => judgement.summary.clone(),
        [one] => format!("{} (chapter {one})", judgement.summary),
        [first @ .., last] => format!(
            "{} (chapters {} and {last})",
            judgement.summary,
            first.join(", ")
        ),
    }
}

/// Whether PID 1 is a shell with the application as its child.
fn shell_form(facts: &Facts) -> String {
    let child = facts.children.first().map_or(String::new(), |c| {
        format!(", with `{}` (PID {}) as its child", c.comm, c.pid)
    });
    match &facts.shell {
        Some(ShellRun::Command(command)) => format!(
            "yes: `{} -c \"{}\"`{child}",
            facts.pid1.comm,
            shorten(command)
        ),
        Some(ShellRun::Script(script)) => format!("yes: a shell runs the script {script}{child}"),
        Some(ShellRun::Bare) => format!("PID 1 is a shell with no command{child}"),
        None => "no".into(),
    }
}

/// The stop signal, where it comes from, and what its target does with it.
fn stop_signal(facts: &Facts) -> String {
    let origin = if facts.stop_signal_named {
        "named by the image or container"
    } else {
        "the default"
    };
    let target = match &facts.first {
        Some(first) => format!("PID {} `{}`", first.pid, first.comm),
        None => "PID 1".into(),
    };
    format!(
        "{} ({origin}), {} at {target}",
        signals::name(facts.stop_signal),
        verdict::word(facts.stop_disposition)
    )
}

/// The zombies seen, by name and parent: `3: PIDs 8, 9, 10 `orphan`,
/// children of PID 1 `app``.
fn zombies(facts: &Facts) -> String {
    if facts.zombies.is_empty() {
        return "none".into();
    }
    let mut groups: Vec<(&str, i32, &str, Vec<i32>)> = Vec::new();
    for zombie in &facts.zombies {
        match groups
            .iter_mut()
            .find(|(comm, parent, _, _)| *comm == zombie.comm && *parent == zombie.parent)
        {
            Some(group) => group.3.push(zombie.pid),
            None => groups.push((
                &zombie.comm,
                zombie.parent,
                &zombie.parent_comm,
                vec![zombie.pid],
            )),
        }
    }
    let described: Vec<String> = groups
        .iter()
        .map(|(comm, parent, parent_comm, pids)| {
            let mut listed: Vec<String> = pids.iter().take(LISTED).map(i32::to_string).collect();
            if pids.len() > LISTED {
                listed.push(format!("and {} more", pids.len() - LISTED));
            }
            let s = if pids.len() == 1 { "" } else { "s" };
            format!(
                "PID{s} {} `{comm}`, of PID {parent} `{parent_comm}`",
                listed.join(", ")
            )
        })
        .collect();
    format!("{}: {}", facts.zombies.len(), described.join("; "))
}

/// A command line cut to 100 characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The JSON report on one container.
pub fn json(inspected: &Inspected, facts: &Facts, judgement: &Judgement) -> Value {
    let process = |p: &crate::verdict::Process| json!({"pid": p.pid, "host_pid": p.host_pid, "comm": p.comm, "args": p.args});
    let shell = match &facts.shell {
        Some(ShellRun::Command(command)) => json!({"runs": "command", "command": command}),
        Some(ShellRun::Script(script)) => json!({"runs": "script", "script": script}),
        Some(ShellRun::Bare) => json!({"runs": "nothing"}),
        None => Value::Null,
    };
    json!({
        "container": inspected.name,
        "id": inspected.id,
        "engine": facts.engine,
        "pid1": process(&facts.pid1),
        "first_process": facts.first.as_ref().map(process),
        "init": facts.init.as_ref().map(|(init, mode)| json!({
            "name": init.name(), "mode": mode.words, "command": mode.command})),
        "shell": shell,
        "children": facts.children.iter().map(process).collect::<Vec<_>>(),
        "stop_signal": signals::name(facts.stop_signal),
        "stop_signal_named": facts.stop_signal_named,
        "stop_timeout": facts.stop_timeout,
        "stop_disposition": verdict::word(facts.stop_disposition),
        "zombies": facts.zombies.iter().map(|z| json!({
            "pid": z.pid, "comm": z.comm, "parent": z.parent, "parent_comm": z.parent_comm}))
            .collect::<Vec<_>>(),
        "orphan_test": facts.orphan_test.as_ref().map(|test| match test {
            OrphanTest::Reaped { milliseconds } => json!({"reaped": true, "milliseconds": milliseconds}),
            OrphanTest::Stayed { pid, milliseconds } =>
                json!({"reaped": false, "pid": pid, "milliseconds": milliseconds}),
        }),
        "verdict": verdict_word(judgement.verdict),
        "summary": judgement.summary,
        "zombies_problem": judgement.zombies.problem,
        "zombies_because": judgement.zombies.because,
        "stop_problem": judgement.stop.problem,
        "stop_because": judgement.stop.because,
        "chapters": judgement.chapters,
        "fix": judgement.fix,
        "notes": judgement.notes,
    })
}

/// The verdict as one word, for scripts.
pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Fine => "fine",
        Verdict::Zombies => "zombies",
        Verdict::StopWaits => "stop-waits",
        Verdict::Both => "both",
    }
}

/// The text report on a Dockerfile: `FILE:LINE: [rule] message` per
/// finding, the notes, and a last line with the verdict.
pub fn dockerfile_text(report: &rules::Report) -> String {
    let mut lines: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}: [{}] {}",
                f.file.display(),
                f.line,
                f.rule.name(),
                f.message
            )
        })
        .collect();
    lines.extend(report.notes.iter().map(|note| format!("note: {note}")));
    lines.push(match report.findings.len() {
        0 => "verdict: fine".into(),
        1 => "verdict: 1 problem".into(),
        n => format!("verdict: {n} problems"),
    });
    lines.join("\n")
}

/// The JSON report on a Dockerfile.
pub fn dockerfile_json(path: &std::path::Path, report: &rules::Report) -> Value {
    json!({
        "dockerfile": path.display().to_string(),
        "findings": report.findings.iter().map(|f| json!({
            "file": f.file.display().to_string(), "line": f.line,
            "rule": f.rule.name(), "message": f.message}))
            .collect::<Vec<_>>(),
        "notes": report.notes,
        "verdict": if report.findings.is_empty() { "fine" } else { "problems" },
    })
}
