//! Instructions per event: what an init does in user space for each orphan
//! it reaps and each signal it forwards, and to start and stop, counted by
//! valgrind's callgrind, which runs the program on a simulated CPU and
//! counts every instruction it executes. The count is the same whatever
//! else the machine is doing, which no clock can offer on a shared machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use orphans::capability::{on_path, Missing};
use orphans::initbench::bench::{progress, Bench};
use orphans::initbench::plan::{Init, Measure, Role};
use orphans::initbench::stats::Figures;

/// The keys of the three counts.
pub const START: &str = "instructions_start";
pub const PER_ORPHAN: &str = "instructions_per_orphan";
pub const PER_SIGNAL: &str = "instructions_per_signal";

/// Whether valgrind can run here; the line a page shows when it cannot.
pub fn valgrind() -> Result<(), Missing> {
    let answer = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match answer {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err(Missing::new("valgrind", "it does not run", VALGRIND_REMEDY)),
        Err(_) => Err(Missing::new(
            "valgrind",
            "it is not installed",
            VALGRIND_REMEDY,
        )),
    }
}

const VALGRIND_REMEDY: &str = "apt-get install valgrind";

// ANCHOR: counts
/// Every init's count to start `true` and exit with it, and per orphan and
/// per forwarded signal: the count with the larger workload minus the
/// count with the smaller, over the difference in events. The workloads
/// are paced (`paced.rs`): one event at a time, so each costs one wake-up.
pub fn counts(bench: &Bench, figures: &mut Figures) {
    let [small, large] = bench.plan.paced;
    progress(&format!(
        "counts: instructions under callgrind, {small} and {large} events"
    ));
    for init in bench.turns(Measure::Counts, 0) {
        // The floor is initbench itself: its start says nothing of inits.
        if init.role != Role::Floor {
            let true_path = on_path("true").unwrap_or_else(|| "/bin/true".into());
            let true_path = true_path.to_string_lossy();
            if let Some(start) = instructions(bench, init, &[&true_path]) {
                figures.record(&init.name, START, start as f64);
            }
        }
        for (kind, key) in [("orphans", PER_ORPHAN), ("signals", PER_SIGNAL)] {
            let count = |n: usize| {
                let n = n.to_string();
                instructions(bench, init, &[&bench.me, "paced", kind, &n])
            };
            match (count(small), count(large)) {
                (Some(few), Some(many)) => {
                    let per_event = many.saturating_sub(few) as f64 / (large - small) as f64;
                    figures.record(&init.name, key, per_event);
                }
                _ => progress(&format!("{}: the {kind} count failed", init.name)),
            }
        }
    }
}
// ANCHOR_END: counts

/// The instructions `init` runs, as PID 1 of a new namespace under
/// callgrind, with `command` as its child: the total of callgrind's file for
/// PID 1 (`--callgrind-out-file` with `%p`; the command is not traced, as
/// callgrind follows no execve(2) by default). `None` if anything failed.
///
/// Every init gets the same environment, `PATH` alone: an init reads
/// variables as it starts, and the cost of each lookup grows with the
/// environment, which differs from one machine (and one reader) to the
/// next.
fn instructions(bench: &Bench, init: &Init, command: &[&str]) -> Option<u64> {
    let path = init.path.as_ref()?;
    let valgrind = on_path("valgrind")?;
    let dir = scratch_dir()?;
    let out = format!("--callgrind-out-file={}/callgrind.%p", dir.display());
    let mut cmd: Vec<&str> = vec![valgrind.to_str()?, "--tool=callgrind", "-q", &out];
    cmd.push(path.to_str()?);
    cmd.extend(init.args.iter().map(String::as_str));
    cmd.push("--");
    cmd.extend_from_slice(command);
    let status = bench
        .command(None, &cmd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let total = status
        .ok()
        .filter(|s| s.success())
        .and_then(|_| callgrind_total(&dir.join("callgrind.1")));
    let _ = std::fs::remove_dir_all(&dir);
    total
}

/// The `totals:` line of a callgrind output file: every instruction of the
/// run (callgrind_annotate's "PROGRAM TOTALS").
fn callgrind_total(file: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    parse_totals(&text)
}

/// The number after `totals:` (or `summary:`, its older name).
pub fn parse_totals(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A new, empty directory for one run's callgrind files.
fn scratch_dir() -> Option<PathBuf> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("initbench-callgrind-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

#[cfg(test)]
mod tests {
    use super::parse_totals;

    #[test]
    fn totals_are_read_from_callgrind_files() {
        let file = "events: Ir\nsummary: 72462\n\nfn=main\n3 5\ntotals: 72462\n";
        assert_eq!(parse_totals(file), Some(72462));
        assert_eq!(parse_totals("events: Ir\n"), None);
    }
}
