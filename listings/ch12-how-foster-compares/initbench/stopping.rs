//! SIGTERM to exit: the common `docker stop`.

use std::io::BufReader;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use orphans::initbench::bench::{
    millis, progress, read_line, shuffled, stop_namespace, wait_with_deadline, Bench,
};
use orphans::initbench::plan::{Init, Measure};
use orphans::initbench::stats::{median, Figures};

/// SIGTERM to exit: each init supervises a recorder, which exits when
/// SIGTERM reaches it; the time runs from kill(init, SIGTERM) until the
/// namespace is gone. The order changes from stop to stop: the first
/// stop of a series pays for a cold path in this benchmark, and that
/// must not always fall on the same init.
pub fn stopping(bench: &Bench, figures: &mut Figures, round: usize) {
    let stops = bench.plan.stops.max(1);
    progress(&format!("stopping: {stops} SIGTERMs per init"));
    let turns = bench.turns(Measure::Stopping, round);
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); turns.len()];
    for stop in 0..stops {
        for slot in shuffled(turns.len(), (round * stops + stop) as u64) {
            times[slot].extend(time_one_stop(bench, turns[slot]));
        }
    }
    for (init, samples) in turns.iter().zip(&times) {
        if !samples.is_empty() {
            figures.record(&init.name, "sigterm_to_exit_ms", median(samples));
        }
    }
}

/// Milliseconds from SIGTERM to the end of one namespace of `init`.
fn time_one_stop(bench: &Bench, init: &Init) -> Option<f64> {
    let recorder = bench.workload(Some(init), &["recorder"]);
    let (mut child, pid1) = bench.start_supervising(init, recorder)?;
    let ready = child
        .stdout
        .take()
        .map(BufReader::new)
        .and_then(|mut lines| read_line(&mut lines))
        .is_some_and(|line| line == "ready");
    if !ready {
        stop_namespace(child, pid1);
        return None;
    }
    let started = Instant::now();
    let _ = kill(Pid::from_raw(pid1), Signal::SIGTERM);
    if wait_with_deadline(&mut child, Duration::from_secs(5)) {
        Some(millis(started.elapsed()))
    } else {
        progress(&format!("{}: still running 5 s after SIGTERM", init.name));
        stop_namespace(child, pid1);
        None
    }
}
