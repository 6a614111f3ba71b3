//! `initbench`: foster against tini, dumb-init and catatonit, side by side,
//! and against the floor: no init at all, and the least an init can do.
//!
//! Every init runs as PID 1 of a fresh PID namespace (through `container`),
//! the way a container runtime starts it. A run is several rounds; in each
//! round every measure runs every init in turn, in a new random order for
//! every run of it, so that whatever else the machine is doing hits all of
//! them alike. The table gives the median of the rounds and foster's ratio,
//! round by round, to the best peer and to the floor; foster-again, foster
//! measured a second time, shows how far apart two identical inits land.
//! Timing on a shared machine is noisy: compare the ratios, not the
//! absolute numbers, and never read one run as a verdict.
//!
//! The same binary is also the workload the inits supervise and the floor
//! init (the hidden subcommands `orphans`, `recorder` and `relay`, in
//! `workload.rs`), so nothing else needs installing.
//!
//! The modules: `cli` (the command line), one module per measure
//! (`startup`, `idle`, `reaping`, `forwarding`, `stopping`, `size`),
//! `output` (the table and the JSON) and `workload`. What the measures
//! share (starting and ending namespaces, the order of turns, the plan,
//! medians and spreads) is in `shared/`, which the book's library compiles
//! as `orphans::initbench`.

mod cli;
mod counts;
mod forwarding;
mod idle;
mod output;
mod paced;
mod reaping;
mod relay;
mod scale;
mod size;
mod startup;
mod stopping;
mod syscalls;
mod workload;

use orphans::cli::fail;
use orphans::initbench::bench::{progress, Bench};
use orphans::initbench::cgroup::{own_cpu_cgroup, Placement};
use orphans::initbench::plan::Measure;
use orphans::initbench::stats::Figures;
use orphans::process::spawn::sibling;

use crate::cli::{Mode, Options};
use crate::output::Results;

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("orphans") => workload::orphans(args.collect()),
        Some("recorder") => workload::recorder(),
        Some("relay") => relay::relay(args.collect()),
        Some("paced") => paced::paced(args.collect()),
        Some("leftovers") => scale::leftovers(args.collect()),
        Some("waves") => scale::waves(args.collect()),
        _ => run_benchmark(cli::parse_arguments()),
    }
}

fn run_benchmark(options: Options) {
    let container = sibling("container");
    if !container.exists() {
        fail(
            "initbench",
            1,
            &format!(
                "{} is missing: run `cargo build --bins` first",
                container.display()
            ),
        );
    }
    for init in options.inits.iter().filter(|init| init.path.is_none()) {
        progress(&format!("{}: missing, not measured", init.name));
    }
    // Held until the table is printed: dropping it moves initbench back.
    // The placement comparison moves between cgroups itself.
    let placement = if options.same_cgroup || options.mode == Mode::Placement {
        Placement::Stayed(String::new())
    } else {
        own_cpu_cgroup()
    };
    if let Placement::Moved(_) = placement {
        progress("in a CPU cgroup of its own (autogroup would apply here)");
    }
    let bench = Bench {
        container,
        me: sibling("initbench").to_string_lossy().into_owned(),
        inits: options
            .inits
            .iter()
            .filter(|init| init.path.is_some())
            .collect(),
        plan: options.plan,
    };
    let mut results = Results {
        inits: &options.inits,
        rounds: Vec::new(),
        counts: Figures::default(),
        syscalls: None,
        scale: Figures::default(),
        mode: options.mode,
        plan: options.plan,
        measures: &options.measures,
        placement: placement.note(),
    };
    match options.mode {
        Mode::Bench => measure(&bench, &options.measures, &mut results),
        Mode::Scale => results.scale = scale::scale(&bench),
        Mode::Placement => {
            results.rounds = rounds(options.plan.rounds, |figures, round| {
                forwarding::placement(&bench, figures, round)
            })
        }
    }
    print!("{}", results.markdown());
    if let Some(file) = &options.json {
        results.write_json(file);
    }
    drop(placement);
}

/// The benchmark's measures: the counts once (they come out the same in
/// every run), then the timed ones round after round.
fn measure(bench: &Bench, measures: &[Measure], results: &mut Results) {
    if measures.contains(&Measure::Counts) {
        match counts::valgrind() {
            Ok(()) => counts::counts(bench, &mut results.counts),
            Err(missing) => progress(&format!("counts: {missing}")),
        }
    }
    if measures.contains(&Measure::Syscalls) {
        results.syscalls = Some(syscalls::syscalls(bench));
    }
    if measures.iter().any(|m| m.is_timed()) {
        results.rounds = rounds(bench.plan.rounds, |figures, round| {
            run_round(bench, measures, figures, round)
        });
    }
}

/// `count` rounds of `one`, with progress.
fn rounds(count: usize, one: impl Fn(&mut Figures, usize)) -> Vec<Figures> {
    (0..count)
        .map(|round| {
            progress(&format!("round {} of {count}", round + 1));
            let mut figures = Figures::default();
            one(&mut figures, round);
            figures
        })
        .collect()
}

/// Every timed measure asked for, once; `round` seeds the order of the
/// turns.
fn run_round(bench: &Bench, measures: &[Measure], figures: &mut Figures, round: usize) {
    for measure in measures {
        match measure {
            Measure::Startup => startup::startup(bench, figures, round),
            Measure::Idle => idle::idle(bench, figures, round),
            Measure::Reaping => reaping::reaping(bench, figures, round),
            Measure::Forwarding => forwarding::forwarding(bench, figures, round),
            Measure::Stopping => stopping::stopping(bench, figures, round),
            Measure::Size => size::size(bench, figures, round),
            // Measured once, before the rounds (see `measure`).
            Measure::Counts | Measure::Syscalls => {}
        }
    }
}
