//! An entrypoint script, read as far as chapter 13 needs: which command
//! it runs last, and whether it runs it with `exec` (the script's shell
//! then becomes that command) or as a child (the shell stays PID 1). Not a
//! shell parser: logical lines, comments and the last `;`, `&&` or `||`
//! of a line are enough for the scripts images carry.

/// The last command of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastCommand {
    /// Its line in the script, from 1.
    pub line: usize,
    /// The command as written.
    pub text: String,
    /// Whether `exec` replaces the shell with it.
    pub execs: bool,
}

/// Words that close a compound command: the command before them is the
/// last one run on that branch.
const CLOSERS: [&str; 7] = ["fi", "done", "esac", "}", ";;", "else", "then"];

// ANCHOR: last
/// The last command `text` runs, if it has any.
pub fn last_command(text: &str) -> Option<LastCommand> {
    logical_lines(text)
        .into_iter()
        .rev()
        .map(|(line, command)| (line, last_part(&command).to_string()))
        .find(|(_, command)| !CLOSERS.contains(&command.as_str()) && !command.is_empty())
        .map(|(line, text)| LastCommand {
            line,
            execs: runs_exec(&text),
            text,
        })
}
// ANCHOR_END: last

/// The line of a `trap` whose action sends a signal on (`kill`), if any.
pub fn forwarding_trap(text: &str) -> Option<usize> {
    logical_lines(text)
        .into_iter()
        .find(|(_, command)| command.starts_with("trap ") && command.contains("kill"))
        .map(|(line, _)| line)
}

/// The script's lines without comments and blank lines, continuation
/// lines (ending in `\`) joined, each with the line it starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if pending.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                joined.push_str(part.trim_end());
                joined.push(' ');
                pending = Some((start, joined));
            }
            None => {
                joined.push_str(trimmed);
                lines.push((start, joined));
            }
        }
    }
    lines.extend(pending);
    lines
}

/// The last command of a logical line: what follows its last `;`, `&&`
/// or `||` outside quotes, without a trailing `;` or `&`.
fn last_part(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut start = 0;
    let bytes = line.as_bytes();
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ';') if at + 1 < line.len() && bytes[at + 1] != b';' => start = at + 1,
            (None, '&' | '|') if bytes.get(at + 1) == Some(&(c as u8)) => start = at + 2,
            _ => {}
        }
    }
    line[start.min(line.len())..]
        .trim()
        .trim_end_matches(';')
        .trim()
}

/// Whether `command` is `exec` with a command to run (`exec >log 2>&1`
/// only redirects the shell's own output).
fn runs_exec(command: &str) -> bool {
    let mut words = command.split_whitespace();
    words.next() == Some("exec")
        && words.any(|word| {
            !word.starts_with(['>', '<'])
                && !word
                    .chars()
                    .all(|c| c.is_ascii_digit() || "<>&-".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(text: &str) -> (usize, String, bool) {
        let found = last_command(text).expect("a command");
        (found.line, found.text, found.execs)
    }

    #[test]
    fn the_last_command_and_its_exec() {
        let with_exec = "#!/bin/sh\nset -e\n# then become the command\nexec \"$@\"\n\n";
        assert_eq!(last(with_exec), (4, "exec \"$@\"".into(), true));
        let without = "#!/bin/sh\nchown app /data\n\"$@\"\n";
        assert_eq!(last(without), (3, "\"$@\"".into(), false));
        let chained = "#!/bin/sh\ncd /app && exec node server.js\n";
        assert_eq!(last(chained), (2, "exec node server.js".into(), true));
        let in_an_if = "if [ -n \"$X\" ]; then\n  exec app\nelse\n  app --default\nfi\n";
        assert_eq!(last(in_an_if), (4, "app --default".into(), false));
        let continued = "exec java \\\n  -jar app.jar\n";
        assert_eq!(last(continued), (1, "exec java -jar app.jar".into(), true));
        let redirect = "exec >/var/log/app.log 2>&1\napp\n";
        assert!(!last(redirect).2);
        assert!(!runs_exec("exec >/var/log/app.log 2>&1"));
        assert_eq!(last_command("# nothing\n\n"), None);
    }

    #[test]
    fn background_and_wait_is_not_exec() {
        let script = "\"$@\" &\nchild=$!\ntrap 'kill -TERM \"$child\"' TERM\nwait \"$child\"\n";
        assert_eq!(last(script), (4, "wait \"$child\"".into(), false));
        assert_eq!(forwarding_trap(script), Some(3));
        assert_eq!(forwarding_trap("trap 'exit 143' TERM\n\"$@\"\n"), None);
        // A `;` inside quotes does not end the command.
        assert_eq!(last_part("echo 'a; b'"), "echo 'a; b'");
        assert_eq!(last_part("a; b;"), "b");
    }
}
