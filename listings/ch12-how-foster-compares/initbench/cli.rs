//! initbench's command line: how much to measure, which measures, and where
//! the inits are.

use std::path::PathBuf;

use orphans::cli::bounds;
use orphans::cli::{help, usage_error};
use orphans::initbench::plan::{Init, Measure, Plan, Role, FULL, MEASURES, QUICK};
use orphans::process::spawn::sibling;

pub const USAGE: &str = "\
usage: initbench [--quick] [--rounds N] [--json FILE] [--foster PATH]
       [--init NAME=PATH]... [--only NAME[,NAME...]] [--measures LIST]
       [--same-cgroup] [--placement | --scale]

Runs each init as PID 1 of a fresh PID namespace, round after round, and
prints a markdown table: the median of the rounds for every init, the
floor (no init, and the least a forwarding init can do), and foster's
ratio to the best peer and to the floor.

  --quick           a short run (under 30 s) for the book and smoke tests
  --rounds N        rounds to run (1 to 50; default 3 quick, 5 full)
  --json FILE       also write every figure as JSON to FILE ('-': stdout)
  --foster PATH     the foster binary to measure (default: the static build
                    under target/, else the foster next to this program)
  --init NAME=PATH  measure another init (repeatable)
  --only NAMES      measure only these inits (comma-separated); the floor
                    and foster-again (foster measured twice, to show the
                    noise) come with foster
  --measures LIST   only these measures (comma-separated): startup, idle,
                    reaping, forwarding, stopping, size, counts (instructions
                    per event, with valgrind), syscalls (system calls per
                    event); all of them by default
  --same-cgroup     stay in the CPU cgroup initbench was started in (by
                    default, when that is the root one and autogroup is
                    on, the run gets a CPU cgroup of its own, as a
                    container does: see sched(7), autogroup)
  --placement       instead: forwarding on one CPU in the root CPU cgroup
                    and in one of the run's own, side by side (where
                    autogroup applies: on, and started in the root one)
  --scale           instead: foster and tini -g stopping 10,000 processes
                    left behind (and cgroup.kill, with cgroup v2), and
                    100,000 orphans in waves of 1,000 (about a minute)
  -h, --help        show this help

Peers come from Debian: apt-get install tini dumb-init catatonit.
Progress goes to stderr.";

/// What a run does: the benchmark, or one of the comparisons that
/// replace it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Bench,
    Placement,
    Scale,
}

/// What the command line asked for.
pub struct Options {
    pub mode: Mode,
    pub plan: Plan,
    pub json: Option<String>,
    /// Every init asked for, installed or not, the floor last.
    pub inits: Vec<Init>,
    pub measures: Vec<Measure>,
    /// `--same-cgroup`: no CPU cgroup of the run's own.
    pub same_cgroup: bool,
}

/// The command line as given, before inits are looked up.
#[derive(Default)]
struct Asked {
    quick: bool,
    rounds: Option<u32>,
    json: Option<String>,
    foster: Option<PathBuf>,
    extra: Vec<(String, PathBuf)>,
    only: Option<Vec<String>>,
    measures: Option<Vec<String>>,
    same_cgroup: bool,
    placement: bool,
    scale: bool,
}

/// Reads the command line; a usage error exits 2, `--help` exits 0.
pub fn parse_arguments() -> Options {
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("initbench", error, USAGE) };
    let asked = read_flags().unwrap_or_else(|e| bad(&e));
    options_from(asked).unwrap_or_else(|e| bad(&e))
}

fn read_flags() -> Result<Asked, String> {
    use lexopt::prelude::*;
    let mut asked = Asked::default();
    let mut parser = lexopt::Parser::from_env();
    let text = |parser: &mut lexopt::Parser| -> Result<String, String> {
        parser
            .value()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|_| "arguments must be UTF-8".to_string())
    };
    let list = |text: String| text.split(',').map(str::to_string).collect();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => help(USAGE),
            Long("quick") => asked.quick = true,
            Long("same-cgroup") => asked.same_cgroup = true,
            Long("placement") => asked.placement = true,
            Long("scale") => asked.scale = true,
            Long("rounds") => asked.rounds = Some(bounds::count(parser.value(), 1, 50)?),
            Long("json") => asked.json = Some(text(&mut parser)?),
            Long("foster") => asked.foster = Some(PathBuf::from(text(&mut parser)?)),
            Long("only") => asked.only = Some(list(text(&mut parser)?)),
            Long("measures") => asked.measures = Some(list(text(&mut parser)?)),
            Long("init") => {
                let spec = text(&mut parser)?;
                let (name, path) = spec
                    .split_once('=')
                    .ok_or(format!("--init takes NAME=PATH, not '{spec}'"))?;
                asked.extra.push((name.to_string(), PathBuf::from(path)));
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(asked)
}

fn options_from(asked: Asked) -> Result<Options, String> {
    let mode = match (asked.placement, asked.scale) {
        (false, false) => Mode::Bench,
        (true, false) => Mode::Placement,
        (false, true) => Mode::Scale,
        (true, true) => return Err("--placement and --scale are two runs, not one".into()),
    };
    if mode != Mode::Bench && (asked.measures.is_some() || asked.same_cgroup) {
        return Err("--placement and --scale take no --measures and no --same-cgroup".into());
    }
    let mut plan = if asked.quick { QUICK } else { FULL };
    if let Some(rounds) = asked.rounds {
        plan.rounds = rounds as usize;
    }
    let mut inits = standard_inits(asked.foster);
    inits.extend(asked.extra.into_iter().map(|(name, path)| Init {
        name,
        path: Some(path),
        args: Vec::new(),
        role: Role::Peer,
    }));
    if let Some(only) = asked.only {
        if let Some(unknown) = only
            .iter()
            .find(|name| !inits.iter().any(|init| &init.name == *name))
        {
            return Err(format!("--only: no init named '{unknown}'"));
        }
        let foster_too = only.iter().any(|name| name == "foster");
        inits
            .retain(|init| only.contains(&init.name) || (foster_too && init.role == Role::Control));
    }
    inits.extend(floor_inits());
    let measures = match asked.measures {
        None => MEASURES.iter().map(|(measure, _)| *measure).collect(),
        Some(names) => names
            .iter()
            .map(|name| {
                MEASURES
                    .iter()
                    .find(|(_, known)| known == name)
                    .map(|(measure, _)| *measure)
                    .ok_or(format!("--measures: no measure named '{name}'"))
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Options {
        mode,
        plan,
        json: asked.json,
        inits,
        measures,
        same_cgroup: asked.same_cgroup,
    })
}

/// foster and the peers people use today, each found where it is installed.
fn standard_inits(foster: Option<PathBuf>) -> Vec<Init> {
    let installed = |path: &str| Some(PathBuf::from(path)).filter(|p| p.exists());
    let init = |name: &str, path: Option<PathBuf>, role: Role| Init {
        name: name.into(),
        path,
        args: Vec::new(),
        role,
    };
    let foster = foster.or_else(find_foster);
    vec![
        init("foster", foster.clone(), Role::Foster),
        init("foster-again", foster, Role::Control),
        init("tini-static", installed("/usr/bin/tini-static"), Role::Peer),
        init("tini", installed("/usr/bin/tini"), Role::Peer),
        init("dumb-init", installed("/usr/bin/dumb-init"), Role::Peer),
        init("catatonit", installed("/usr/bin/catatonit"), Role::Peer),
    ]
}

/// The floor: `initbench relay signalfd|sigwait -- CMD`, see
/// `workload::relay`.
fn floor_inits() -> Vec<Init> {
    ["signalfd", "sigwait"]
        .into_iter()
        .map(|how| Init {
            name: format!("relay-{how}"),
            path: Some(sibling("initbench")),
            args: vec!["relay".into(), how.into()],
            role: Role::Floor,
        })
        .collect()
}

/// The static, size-optimised foster if it was built, else the one built
/// beside this program.
fn find_foster() -> Option<PathBuf> {
    let target = sibling("initbench").parent()?.parent()?.to_path_buf();
    let candidates = [
        target.join("x86_64-unknown-linux-musl/foster/foster"),
        target.join("x86_64-unknown-linux-gnu/foster/foster"),
        target.join("foster/foster"),
        sibling("foster"),
    ];
    candidates.into_iter().find(|path| path.exists())
}
