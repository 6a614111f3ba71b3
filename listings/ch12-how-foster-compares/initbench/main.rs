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
mod size;
mod startup;
mod stopping;
mod workload;

use orphans::cli::fail;
use orphans::initbench::bench::{progress, Bench};
use orphans::initbench::cgroup::{own_cpu_cgroup, Placement};
use orphans::initbench::plan::Measure;
use orphans::initbench::stats::Figures;
use orphans::process::spawn::sibling;

use crate::cli::Options;
use crate::output::Results;

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("orphans") => workload::orphans(args.collect()),
        Some("recorder") => workload::recorder(),
        Some("relay") => relay::relay(args.collect()),
        Some("paced") => paced::paced(args.collect()),
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
    let placement = if options.same_cgroup {
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
    let rounds = (0..options.plan.rounds)
        .map(|round| {
            progress(&format!("round {} of {}", round + 1, options.plan.rounds));
            run_round(&bench, &options.measures, round)
        })
        .collect();
    let results = Results {
        inits: &options.inits,
        rounds,
        plan: options.plan,
        measures: &options.measures,
        placement: placement.note(),
    };
    print!("{}", results.markdown());
    if let Some(file) = &options.json {
        results.write_json(file);
    }
    drop(placement);
}

/// Every measure asked for, once; `round` seeds the order of the turns.
fn run_round(bench: &Bench, measures: &[Measure], round: usize) -> Figures {
    let mut figures = Figures::default();
    for measure in measures {
        match measure {
            Measure::Startup => startup::startup(bench, &mut figures, round),
            Measure::Idle => idle::idle(bench, &mut figures, round),
            Measure::Reaping => reaping::reaping(bench, &mut figures, round),
            Measure::Forwarding => forwarding::forwarding(bench, &mut figures, round),
            Measure::Stopping => stopping::stopping(bench, &mut figures, round),
            Measure::Size => size::size(bench, &mut figures, round),
            // The same in every round: counted once.
            Measure::Counts if round == 0 => counts::counts(bench, &mut figures),
            Measure::Counts | Measure::Syscalls => {}
        }
    }
    figures
}
