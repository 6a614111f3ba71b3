//! The idle cost: the wake-ups and the memory of an init that has nothing
//! to do.

use std::process::Child;
use std::time::Duration;

use orphans::initbench::bench::{progress, stop_namespace, Bench};
use orphans::initbench::plan::{Init, Measure};
use orphans::initbench::stats::Figures;
use orphans::process::procfs::status_field;

// ANCHOR: idle
/// Idle cost: each init supervises a `sleep`; after a settling moment,
/// count the init's context switches over a few seconds (each one is a
/// wake-up) and read its resident memory. All inits idle at once.
pub fn idle(bench: &Bench, figures: &mut Figures, round: usize) {
    progress(&format!(
        "idle: {} s with every init watching a sleep",
        bench.plan.idle_seconds
    ));
    let seconds = (bench.plan.idle_seconds + 30).to_string();
    let running: Vec<(&Init, Option<(Child, i32)>)> = bench
        .turns(Measure::Idle, round)
        .into_iter()
        .map(|init| {
            let sleep = bench.command(Some(init), &["sleep", &seconds]);
            (init, bench.start_supervising(init, sleep))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let before: Vec<Option<u64>> = running
        .iter()
        .map(|(_, r)| r.as_ref().and_then(|(_, pid)| context_switches(*pid)))
        .collect();
    std::thread::sleep(Duration::from_secs(bench.plan.idle_seconds));
    for ((init, running), before) in running.into_iter().zip(before) {
        let Some((child, pid)) = running else {
            continue;
        };
        if let (Some(before), Some(after)) = (before, context_switches(pid)) {
            figures.record(
                &init.name,
                "idle_wakeups",
                after.saturating_sub(before) as f64,
            );
        }
        if let Some(rss) = status_field(pid, "VmRSS") {
            figures.record(&init.name, "idle_rss_kib", rss as f64);
        }
        stop_namespace(child, pid);
    }
}
// ANCHOR_END: idle

/// Voluntary plus involuntary context switches of `pid` (proc(5)).
fn context_switches(pid: i32) -> Option<u64> {
    Some(
        status_field(pid, "voluntary_ctxt_switches")?
            + status_field(pid, "nonvoluntary_ctxt_switches")?,
    )
}
