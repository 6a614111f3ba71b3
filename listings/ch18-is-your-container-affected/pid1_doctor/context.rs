//! The build context: which file of it a `COPY` or `ADD` of the
//! Dockerfile put at a path of the image, so that the doctor can read the
//! entrypoint script an image runs (or the heredoc that wrote it).

use std::path::{Path, PathBuf};

use crate::dockerfile::{form, Form, Instruction};
use crate::inits::last_part;

/// Where a container looks for a program named without a `/`: the `PATH`
/// Docker gives a container whose image sets none.
const PATH_DIRS: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The text of the script `target` names in the image, from the COPY or
/// ADD that put it there: its file in the context (`None` for a heredoc,
/// which is in the Dockerfile), the number to add to its line numbers, and
/// its text. A name without `/` is looked for on the `PATH`, a relative
/// path in the last WORKDIR.
pub fn script_text(
    chain: &[&Instruction],
    target: &str,
    context: &Path,
) -> Option<(Option<PathBuf>, usize, String)> {
    let workdirs = |upto: usize| {
        chain[..upto]
            .iter()
            .filter(|i| i.keyword == "WORKDIR")
            .fold(String::from("/"), |dir, i| {
                absolute(&dir, i.arguments.trim())
            })
    };
    let candidates: Vec<String> = if target.contains('/') {
        vec![absolute(&workdirs(chain.len()), target)]
    } else {
        PATH_DIRS
            .iter()
            .map(|dir| format!("{dir}/{target}"))
            .collect()
    };
    chain
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i.keyword.as_str(), "COPY" | "ADD"))
        .filter_map(|(at, i)| {
            let workdir = workdirs(at);
            candidates
                .iter()
                .find_map(|candidate| copied_to(i, &workdir, candidate, context))
        })
        .next_back()
}

/// If `instruction` (COPY or ADD) puts the file `target` in the image, the
/// script's file, line offset and text.
fn copied_to(
    instruction: &Instruction,
    workdir: &str,
    target: &str,
    context: &Path,
) -> Option<(Option<PathBuf>, usize, String)> {
    let words: Vec<String> = match form(&instruction.arguments) {
        Form::Exec(words) => words,
        _ => instruction
            .arguments
            .split_whitespace()
            .map(String::from)
            .collect(),
    };
    if words.iter().any(|w| w.starts_with("--from")) {
        return None;
    }
    let words: Vec<&String> = words.iter().filter(|w| !w.starts_with("--")).collect();
    let (destination, sources) = words.split_last()?;
    let destination = absolute(workdir, destination);
    let into_directory = destination.ends_with('/') || sources.len() > 1;
    if let (Some(heredoc), [_]) = (instruction.heredocs.first(), sources) {
        return (destination == target)
            .then(|| (None, heredoc.first_line - 1, heredoc.text.clone()));
    }
    for source in sources {
        let relative = if into_directory || source.as_str() == "." || context.join(source).is_dir()
        {
            let inside = target
                .strip_prefix(destination.trim_end_matches('/'))?
                .strip_prefix('/')?;
            if context.join(source).is_dir() {
                Path::new(source).join(inside)
            } else if inside == last_part(source) {
                PathBuf::from(source)
            } else {
                continue;
            }
        } else if destination == target {
            PathBuf::from(source)
        } else {
            continue;
        };
        let file = context.join(&relative);
        if let Ok(text) = std::fs::read_to_string(&file) {
            return Some((Some(file), 0, text));
        }
    }
    None
}

/// `path` made absolute against the directory `base`.
fn absolute(base: &str, path: &str) -> String {
    let path = path.trim_matches('"');
    if path.starts_with('/') {
        return path.to_string();
    }
    let path = path.strip_prefix("./").unwrap_or(path);
    if path == "." {
        return format!("{}/", base.trim_end_matches('/'));
    }
    format!("{}/{path}", base.trim_end_matches('/'))
}
