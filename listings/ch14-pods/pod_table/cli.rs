//! `pod-table`'s command line: the options, the experiment, its rows.

use std::ffi::{OsStr, OsString};

use orphans::cli::{self, Request};
use orphans::containers::engine::Kind;

use crate::rows::{AppKind, PodKind, Row};
use crate::{Experiment, Options};

/// The options, then the experiment, then its rows: what follows the
/// experiment is taken as rows, whatever it looks like.
pub fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut engine = Kind::Docker;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("engine") => {
                engine = match cli::text(parser.value())?.as_str() {
                    "docker" => Kind::Docker,
                    "podman" => Kind::Podman,
                    _ => return Err("--engine takes docker or podman".into()),
                }
            }
            Value(word) => {
                let experiment = experiment(&word)?;
                // Every argument after the experiment is a ROW, even one
                // that starts with `-` (`'- | --init'`).
                let rows = parser
                    .raw_args()
                    .map_err(cli::error)?
                    .map(|row| parse_row(&cli::text(Ok(row))?))
                    .collect::<Result<Vec<Row>, String>>()?;
                if rows.is_empty() {
                    return Err("no ROW given".into());
                }
                return Ok(Request::Run(Options {
                    engine,
                    experiment,
                    rows,
                }));
            }
            other => return cli::other(other),
        }
    }
    Err("no experiment given (orphans or stop)".into())
}

/// `orphans` or `stop`.
fn experiment(word: &OsStr) -> Result<Experiment, String> {
    match word.to_str() {
        Some("orphans") => Ok(Experiment::Orphans),
        Some("stop") => Ok(Experiment::Stop),
        _ => Err(format!(
            "'{}' is not an experiment (orphans or stop)",
            word.to_string_lossy()
        )),
    }
}

/// Reads one ROW: `POD | APP` or `POD | APP | TIMEOUT`.
fn parse_row(text: &str) -> Result<Row, String> {
    let fields: Vec<Vec<String>> = text
        .split('|')
        .map(|field| field.split_whitespace().map(String::from).collect())
        .collect();
    let (pod, app, timeout) = match fields.as_slice() {
        [pod, app] => (pod, app, 4),
        [pod, app, timeout] => (pod, app, parse_timeout(timeout)?),
        _ => {
            return Err(format!(
                "'{text}': a ROW is 'POD | APP' or 'POD | APP | TIMEOUT'"
            ))
        }
    };
    Ok(Row {
        pod: parse_pod(pod).map_err(|e| format!("'{text}': {e}"))?,
        app: parse_app(app).map_err(|e| format!("'{text}': {e}"))?,
        timeout,
    })
}

fn parse_pod(words: &[String]) -> Result<PodKind, String> {
    match words {
        [] => Err("POD is empty".into()),
        [dash] if dash == "-" => Ok(PodKind::Alone),
        [infra] if infra == "infra" => Ok(PodKind::Infra),
        command => Ok(PodKind::Ours(command.to_vec())),
    }
}

fn parse_app(words: &[String]) -> Result<AppKind, String> {
    match words {
        [dash] if dash == "-" => Ok(AppKind::Direct),
        [init] if init == "--init" => Ok(AppKind::EngineInit),
        [option, foster] if option == "--init-path" && foster == "foster" => {
            Ok(AppKind::InitPathFoster)
        }
        [first, ..] if first == "tini" || first == "foster" => Ok(AppKind::Init(words.to_vec())),
        _ => {
            Err("APP is -, --init, --init-path foster, or a command line of tini or foster".into())
        }
    }
}

fn parse_timeout(words: &[String]) -> Result<u32, String> {
    match words {
        [number] => match number.parse::<u32>() {
            Ok(seconds) if (1..=30).contains(&seconds) => Ok(seconds),
            _ => Err(format!(
                "TIMEOUT '{number}' is not a whole number of seconds from 1 to 30"
            )),
        },
        _ => Err("TIMEOUT is one number of seconds".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn rows_name_a_pod_and_an_app() {
        let row = parse_row("pause --no-reap | tini -s").expect("a row");
        assert_eq!(row.pod, PodKind::Ours(words("pause --no-reap")));
        assert_eq!(row.app, AppKind::Init(words("tini -s")));
        assert_eq!(row.timeout, 4);
        let row = parse_row(" - | --init | 2 ").expect("a row");
        assert_eq!(
            (row.pod, row.app, row.timeout),
            (PodKind::Alone, AppKind::EngineInit, 2)
        );
        let row = parse_row("infra | --init-path foster").expect("a row");
        assert_eq!(
            (row.pod, row.app),
            (PodKind::Infra, AppKind::InitPathFoster)
        );
    }

    #[test]
    fn bad_rows_are_refused_with_a_reason() {
        for bad in [
            "pause",
            "| -",
            "pause | bash",
            "pause | - | 0",
            "pause | - | 4 | 5",
            "pause | - | x",
        ] {
            assert!(parse_row(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_then_the_experiment_then_its_rows() {
        let o = options(parse, &["orphans", "- | -", "pause | --init"]);
        assert_eq!(
            (o.engine, o.experiment),
            (Kind::Docker, Experiment::Orphans)
        );
        assert_eq!(o.rows.len(), 2);
        assert_eq!(o.rows[1].app, AppKind::EngineInit);
        let o = options(parse, &["--engine", "podman", "stop", "- | -"]);
        assert_eq!((o.engine, o.experiment), (Kind::Podman, Experiment::Stop));
        help_and_version(parse);
        for (args, reason) in [
            (&[][..], "no experiment given"),
            (&["orphans"], "no ROW given"),
            (&["zombies", "- | -"], "not an experiment"),
            (&["--engine", "lxc", "stop", "- | -"], "docker or podman"),
            (&["stop", "- | -", "--help"], "a ROW is"),
            (&["--bogus"], "--bogus"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }
}
