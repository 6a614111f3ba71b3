//! Which engine runs a container, and what it says of it: `docker` or
//! `podman`, through the book's engine driver
//! (`orphans::containers::engine`), whose command lines are the same for
//! both.

use std::time::Duration;

use orphans::containers::engine::{Engine, Error};
use orphans::process::spawn::on_path;

use crate::container::{parse_inspect, Inspected};

/// The engines the doctor knows, in the order it asks them.
pub const NAMES: [&str; 2] = ["docker", "podman"];

/// The engine called `name` (one of [`NAMES`]).
pub fn engine(name: &str) -> Engine {
    match name {
        "podman" => orphans::containers::podman::engine(),
        _ => Engine::docker(),
    }
}

/// The engines to ask: the one `--engine` named, or every one whose
/// command is on `$PATH`. `Err` when there is none.
pub fn candidates(named: Option<&str>) -> Result<Vec<&'static str>, String> {
    if let Some(name) = named {
        return NAMES
            .into_iter()
            .find(|n| *n == name)
            .map(|n| vec![n])
            .ok_or_else(|| format!("--engine takes docker or podman, not '{name}'"));
    }
    let found: Vec<&str> = NAMES.into_iter().filter(|n| on_path(n).is_some()).collect();
    if found.is_empty() {
        return Err("neither docker nor podman is on $PATH".into());
    }
    Ok(found)
}

/// How long an engine may take to answer the doctor: a hung engine must
/// not hang it.
const PATIENCE: Duration = Duration::from_secs(60);

/// The container `name` (or ID), from the first of `engines` that knows
/// it, with that engine's name. `Err` says that none does, or why an
/// engine could not be asked.
pub fn find(engines: &[&'static str], name: &str) -> Result<(&'static str, Inspected), String> {
    let mut answers = Vec::new();
    for &program in engines {
        let inspect = ["inspect", "--type", "container", name];
        match engine(program).run_within(&inspect, PATIENCE) {
            Ok(json) => return Ok((program, parse_inspect(&json)?)),
            Err(Error::Failed { said, .. }) if is_unknown(&said) => {
                answers.push(format!("{program} has no container {name}"))
            }
            Err(why) => answers.push(why.to_string()),
        }
    }
    Err(answers.join("; "))
}

/// Whether an engine's complaint says that the container does not exist.
fn is_unknown(complaint: &str) -> bool {
    complaint.to_ascii_lowercase().contains("no such")
}

/// The IDs of every running container of `program`.
pub fn running(program: &str) -> Result<Vec<String>, String> {
    let ids = engine(program).run_within(&["ps", "--quiet", "--no-trunc"], PATIENCE)?;
    Ok(ids
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_by_name() {
        assert_eq!(candidates(Some("podman")), Ok(vec!["podman"]));
        assert!(candidates(Some("lxc"))
            .unwrap_err()
            .contains("docker or podman"));
        assert!(is_unknown("docker inspect: Error: No such container: web"));
        assert!(is_unknown("podman inspect: Error: no such container web"));
        assert!(!is_unknown(
            "docker inspect: Cannot connect to the Docker daemon"
        ));
    }
}
