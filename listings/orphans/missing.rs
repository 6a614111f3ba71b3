//! The words for what this machine cannot run: a [`Missing`] component and
//! the one line a page shows instead of a table it could not make
//! (`*Not run here: …*`). A leaf: every other module may use it, and it
//! uses none of them but the command line's way to fail.

use std::fmt;

/// The words every "not run here" line starts with. `.ci/check-book` looks
/// for them: in CI's full environment the book must contain none.
pub const NOT_RUN: &str = "Not run here:";

/// A component an experiment needs and this machine lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The component, as a reader knows it: "a Docker engine", "busybox".
    pub component: String,
    /// Why it is not usable, in a few words (no raw log).
    pub why: String,
    /// The command (or the step) that would provide it.
    pub remedy: String,
}

impl Missing {
    /// `why` is cut to its first line (see [`one_line`]).
    pub fn new(component: &str, why: impl Into<String>, remedy: &str) -> Missing {
        Missing {
            component: component.to_string(),
            why: one_line(&why.into()),
            remedy: remedy.to_string(),
        }
    }

    /// The one line a page shows for `experiment` (what was not run):
    /// `*Not run here: EXPERIMENT needs COMPONENT: WHY. To run it: REMEDY.*`
    pub fn line(&self, experiment: &str) -> String {
        format!("*{NOT_RUN} {experiment} needs {self}.*")
    }

    /// Several missing parts as one (for a caller that returns one): their
    /// names joined by "and", their reasons and their remedies by "; ".
    pub fn combined(parts: &[Missing]) -> Missing {
        let join = |field: fn(&Missing) -> &str, by: &str| {
            parts.iter().map(field).collect::<Vec<_>>().join(by)
        };
        Missing {
            component: join(|m| &m.component, " and "),
            why: join(|m| &m.why, "; "),
            remedy: join(|m| &m.remedy, "; "),
        }
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}. To run it: {}",
            self.component, self.why, self.remedy
        )
    }
}

/// The one line for `experiment` when several components are missing:
/// each named with its reason and remedy, joined by "; and".
pub fn line_for(experiment: &str, missing: &[Missing]) -> String {
    format!("*{NOT_RUN} {experiment} needs {}.*", all_of(missing))
}

/// Every part of `missing` with its reason and remedy, joined by "; and":
/// a test's reason to skip.
pub fn all_of(missing: &[Missing]) -> String {
    let parts: Vec<String> = missing.iter().map(Missing::to_string).collect();
    parts.join("; and ")
}

/// The one line for `experiment` when everything it needs was there but it
/// failed anyway (a bug, or a machine that misbehaves): what it said last,
/// never its whole output.
pub fn failed_line(experiment: &str, error: &str) -> String {
    format!(
        "*{NOT_RUN} {experiment} failed on this machine: {} (the build's log has the rest).*",
        one_line(error)
    )
}

/// Why a table tool printed no table: a component this machine lacks, or
/// a measurement that went wrong. `?` makes one of either.
#[derive(Debug, PartialEq)]
pub enum NotShown {
    /// The page shows [`Missing::line`] instead of the table.
    Missing(Missing),
    /// An error: the tool says it on stderr and exits with status 1.
    Failed(String),
}

impl From<Missing> for NotShown {
    fn from(missing: Missing) -> NotShown {
        NotShown::Missing(missing)
    }
}

impl From<String> for NotShown {
    fn from(error: String) -> NotShown {
        NotShown::Failed(error)
    }
}

/// What a table tool does once it has tried to print the table of
/// `experiment`: nothing more if it did; else it prints the one line of
/// what is missing (on stdout, for the page), or says what went wrong (on
/// stderr) and exits with status 1.
pub fn finish(program: &str, experiment: &str, shown: Result<(), NotShown>) {
    match shown {
        Ok(()) => {}
        Err(NotShown::Missing(missing)) => println!("{}", missing.line(experiment)),
        Err(NotShown::Failed(error)) => orphans::cli::fail(program, 1, &error),
    }
}

/// The first non-empty line of `text`, trimmed, without a final period,
/// and at most 200 characters (then with an ellipsis), so that a tool's
/// error output can never flood a page.
pub fn one_line(text: &str) -> String {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    bounded(first, 200).trim_end_matches('.').to_string()
}

/// `text`, cut after `max` characters (with an ellipsis).
pub fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_component_makes_one_marked_line() {
        let missing = Missing::new(
            "busybox",
            "no /bin/busybox\nsecond line",
            "apt-get install busybox-static",
        );
        let line = missing.line("The Docker table");
        assert_eq!(
            line,
            "*Not run here: The Docker table needs busybox: no /bin/busybox. To run it: apt-get install busybox-static.*"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn one_line_keeps_the_first_non_empty_line_and_bounds_it() {
        assert_eq!(one_line("\n  error: boom.  \nmore"), "error: boom");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), 201);
        assert_eq!(bounded("abcdef", 4), "abcd…");
        assert_eq!(bounded("abc", 4), "abc");
    }

    #[test]
    fn several_missing_parts_make_one_line() {
        let line = line_for(
            "The table",
            &[
                Missing::new("a Docker engine", "none answers", "install it"),
                Missing::new(
                    "a static busybox",
                    "there is no /x",
                    "apt-get install busybox-static",
                ),
            ],
        );
        assert_eq!(
            line,
            "*Not run here: The table needs a Docker engine: none answers. To run it: install it; \
             and a static busybox: there is no /x. To run it: apt-get install busybox-static.*"
        );
        let failed = failed_line("The table", "boom\nsecond");
        assert!(failed.starts_with("*Not run here: The table failed on this machine: boom"));
        assert!(!failed.contains('\n'));
    }
}
