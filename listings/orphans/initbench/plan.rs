//! What a run measures and how much: the plan of each round, the inits and
//! their roles, the measures.

use std::path::PathBuf;

/// How much work each round does.
#[derive(Clone, Copy)]
pub struct Plan {
    pub rounds: usize,
    /// `INIT true` runs per init.
    pub startup_runs: usize,
    pub idle_seconds: u64,
    /// Orphans per init in the steady workload, and in the burst.
    pub orphans: usize,
    pub burst: usize,
    /// SIGUSR1s per init, on all CPUs and again on one.
    pub signals: usize,
    /// SIGTERM-to-exit measures per init.
    pub stops: usize,
    /// The two sizes of the paced workloads (events one at a time) whose
    /// difference gives the counts per event.
    pub paced: [usize; 2],
}

pub const QUICK: Plan = Plan {
    rounds: 3,
    startup_runs: 15,
    idle_seconds: 1,
    orphans: 200,
    burst: 200,
    signals: 600,
    stops: 6,
    paced: [20, 220],
};

pub const FULL: Plan = Plan {
    rounds: 5,
    startup_runs: 100,
    idle_seconds: 5,
    orphans: 5000,
    burst: 5000,
    signals: 3000,
    stops: 30,
    paced: [100, 1100],
};

/// What an init is to the comparison.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Foster,
    /// foster once more, measured as if it were another init: how far
    /// apart two identical inits land in the same run is the noise.
    Control,
    /// An init people use today, or one given with `--init`.
    Peer,
    /// initbench's own minimal init: the least any init must do.
    Floor,
}

/// An init to measure; `path` is `None` when it is not installed.
pub struct Init {
    pub name: String,
    pub path: Option<PathBuf>,
    /// Arguments before the `--` that ends the init's own options.
    pub args: Vec<String>,
    pub role: Role,
}

/// The measures, in the order a round runs them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Measure {
    Startup,
    Idle,
    Reaping,
    Forwarding,
    Stopping,
    Size,
    /// Instructions per event, counted by callgrind.
    Counts,
    /// System calls per event, counted through ptrace(2).
    Syscalls,
}

pub const MEASURES: [(Measure, &str); 8] = [
    (Measure::Startup, "startup"),
    (Measure::Idle, "idle"),
    (Measure::Reaping, "reaping"),
    (Measure::Forwarding, "forwarding"),
    (Measure::Stopping, "stopping"),
    (Measure::Size, "size"),
    (Measure::Counts, "counts"),
    (Measure::Syscalls, "syscalls"),
];

impl Measure {
    /// Whether it is timed, and so measured again in every round (the
    /// counts come out the same every time and are measured once).
    pub fn is_timed(self) -> bool {
        !matches!(self, Measure::Counts | Measure::Syscalls)
    }

    /// Whether the floor init takes part: it is this benchmark's own
    /// binary, so its startup, memory and size say nothing about inits.
    pub fn has_floor(self) -> bool {
        matches!(
            self,
            Measure::Reaping
                | Measure::Forwarding
                | Measure::Stopping
                | Measure::Counts
                | Measure::Syscalls
        )
    }
}
