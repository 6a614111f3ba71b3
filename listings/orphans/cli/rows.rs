//! The rows of a table tool: each a command line given as one argument
//! (`"naive-init worker"`), run as PID 1 of a new PID namespace, or under
//! Docker when its first word is `docker` (`"docker naive-init worker"`).

use std::ffi::OsString;
use std::fmt;

/// Where a row's command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// PID 1 of a new PID namespace (the book's `container`).
    Namespace,
    /// PID 1 of a container of the project's image.
    Docker,
}

/// One row: where it runs and its command's words (without `docker`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRow {
    pub place: Place,
    pub words: Vec<String>,
}

impl CommandRow {
    /// Reads one argument of a table tool: a command line, not empty, and
    /// not just the word `docker` (which says where to run the rest). No
    /// quoting: words are separated by white space. `what` names the
    /// argument in the message.
    pub fn parse(argument: OsString, what: &str) -> Result<CommandRow, String> {
        let refused = || format!("each {what} must be a non-empty UTF-8 command line");
        let text = argument.into_string().map_err(|_| refused())?;
        let mut words: Vec<String> = text.split_whitespace().map(String::from).collect();
        let place = match words.first().map(String::as_str) {
            Some("docker") => {
                words.remove(0);
                Place::Docker
            }
            _ => Place::Namespace,
        };
        if words.is_empty() {
            return Err(refused());
        }
        Ok(CommandRow { place, words })
    }

    /// Whether the row runs under Docker.
    pub fn in_docker(&self) -> bool {
        self.place == Place::Docker
    }

    /// The command's words joined by spaces (without `docker`).
    pub fn command_line(&self) -> String {
        self.words.join(" ")
    }
}

impl fmt::Display for CommandRow {
    /// The row as it was given: `docker naive-init worker`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Place::Namespace => write!(f, "{}", self.command_line()),
            Place::Docker => write!(f, "docker {}", self.command_line()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_say_where_they_run() {
        let row = CommandRow::parse("docker  naive-init worker".into(), "ROW").expect("a row");
        assert_eq!(row.place, Place::Docker);
        assert_eq!(row.words, ["naive-init", "worker"]);
        assert_eq!(row.to_string(), "docker naive-init worker");
        let here = CommandRow::parse("sleep 9".into(), "ROW").expect("a row");
        assert!(!here.in_docker());
        assert_eq!(here.command_line(), "sleep 9");
        for refused in [" ", "", "docker", " docker  "] {
            let message = CommandRow::parse(refused.into(), "ROW").unwrap_err();
            assert!(message.contains("non-empty"), "{refused:?}: {message}");
        }
    }
}
