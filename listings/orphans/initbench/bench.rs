//! The machinery every measure shares: starting an init as PID 1 of a new
//! namespace, finding its processes, ending it, and the order in which the
//! inits take their turns.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::time::{clock_gettime, ClockId};
use nix::unistd::Pid;
use orphans::process::deadline::poll_until;
use orphans::process::procfs;

use crate::initbench::plan::{Init, Measure, Plan, Role};

/// What a round measures with: the book's `container`, the inits that are
/// installed, and how much work to do.
pub struct Bench<'a> {
    pub container: PathBuf,
    /// This program, which is also the workload the inits supervise.
    pub me: String,
    pub inits: Vec<&'a Init>,
    pub plan: Plan,
}

/// Says on stderr what the benchmark is doing, with the seconds since it
/// started.
pub fn progress(message: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let elapsed = START.get_or_init(Instant::now).elapsed();
    eprintln!("initbench: [{:5.1} s] {message}", elapsed.as_secs_f64());
}

/// The numbers `0..count` in an order that changes with `seed`: a
/// Fisher-Yates shuffle driven by xorshift64* (Marsaglia, "Xorshift RNGs",
/// 2003; the multiplier from Vigna, 2016). Taking turns in a rotating order
/// is not enough: each init then nearly always follows the same one, and
/// the place decided more than the init. A second copy of foster put right
/// after dumb-init beat the first copy in three runs out of three (by 9 to
/// 15 % on all CPUs), as catatonit had in that place. Shuffled, every init
/// follows every other alike. Deterministic, so that a run can be repeated.
pub fn shuffled(count: usize, seed: u64) -> Vec<usize> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut order: Vec<usize> = (0..count).collect();
    for last in (1..count).rev() {
        let pick = (next() % (last as u64 + 1)) as usize;
        order.swap(last, pick);
    }
    order
}

/// Milliseconds in a duration.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Bench<'_> {
    /// The inits that take part in `measure` (the floor only where it
    /// means something), starting at `offset` and wrapping around. The
    /// measures then take them in a [`shuffled`] order.
    pub fn turns(&self, measure: Measure, offset: usize) -> Vec<&Init> {
        let taking_part: Vec<&Init> = self
            .inits
            .iter()
            .copied()
            .filter(|init| measure.has_floor() || init.role != Role::Floor)
            .collect();
        let count = taking_part.len().max(1);
        (0..taking_part.len())
            .map(|turn| taking_part[(offset + turn) % count])
            .collect()
    }

    /// `container INIT ARGS -- CMD...`, or `container CMD...` without an init.
    pub fn command(&self, init: Option<&Init>, cmd: &[&str]) -> Command {
        let mut command = Command::new(&self.container);
        if let Some(init) = init {
            if let Some(path) = &init.path {
                command.arg(path).args(&init.args).arg("--");
            }
        }
        command.args(cmd).stdin(Stdio::null());
        command
    }

    /// `initbench SUBCOMMAND ARGS` as the command of `init`.
    pub fn workload(&self, init: Option<&Init>, args: &[&str]) -> Command {
        let mut cmd = vec![self.me.as_str()];
        cmd.extend_from_slice(args);
        self.command(init, &cmd)
    }

    /// Starts `container INIT -- CMD` and returns it with the init's PID as
    /// seen from here, once the init has started its own child.
    pub fn start_supervising(&self, init: &Init, mut cmd: Command) -> Option<(Child, i32)> {
        let mut child = cmd.stdout(Stdio::piped()).spawn().ok()?;
        let pid1 = first_child(child.id() as i32);
        match pid1.filter(|pid| first_child(*pid).is_some()) {
            Some(pid) => Some((child, pid)),
            None => {
                progress(&format!("{}: did not start its child", init.name));
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }
}

/// Reads one line, without its newline; `None` at the end or on error.
pub fn read_line(lines: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match lines.read_line(&mut line) {
        Ok(n) if n > 0 => Some(line.trim_end().to_string()),
        _ => None,
    }
}

/// CLOCK_MONOTONIC now, in nanoseconds: the same clock in every PID
/// namespace, so a time stamped inside can be compared with one outside.
pub fn monotonic_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// The first child of `parent`, waiting up to 5 s for it to appear;
/// `None` at once if `parent` is gone.
pub fn first_child(parent: i32) -> Option<i32> {
    let found = poll_until(
        Duration::from_secs(5),
        Duration::from_millis(2),
        || match procfs::state(parent) {
            None => Some(None),
            Some(_) => procfs::children(parent).first().map(|&pid| Some(pid)),
        },
    );
    found.flatten()
}

/// Ends a namespace from outside: SIGKILL to its PID 1 is never ignored when
/// it comes from an ancestor namespace, and takes every process with it.
pub fn stop_namespace(mut child: Child, pid1: i32) {
    let _ = kill(Pid::from_raw(pid1), Signal::SIGKILL);
    let _ = child.wait();
}

/// Whether `child` exited within `limit`.
pub fn wait_with_deadline(child: &mut Child, limit: Duration) -> bool {
    poll_until(limit, Duration::from_micros(200), || {
        child.try_wait().ok().flatten()
    })
    .is_some()
}

/// Runs `work` with this process, and so every process it starts from now
/// on, allowed on the first CPU only (sched_setaffinity(2); children
/// inherit the mask), then restores the mask it had.
pub fn pinned_to_one_cpu(work: impl FnOnce()) -> Result<(), String> {
    use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
    let me = Pid::from_raw(0);
    let before = sched_getaffinity(me).map_err(|e| format!("sched_getaffinity: {e}"))?;
    let first = (0..CpuSet::count())
        .find(|&cpu| before.is_set(cpu).unwrap_or(false))
        .ok_or("no CPU in our affinity mask")?;
    let mut one = CpuSet::new();
    one.set(first).map_err(|e| format!("CpuSet: {e}"))?;
    sched_setaffinity(me, &one).map_err(|e| format!("sched_setaffinity: {e}"))?;
    work();
    sched_setaffinity(me, &before).map_err(|e| format!("restoring the CPU mask: {e}"))
}

#[cfg(test)]
mod tests {
    use super::shuffled;

    #[test]
    fn shuffles_are_permutations_that_vary() {
        let orders: Vec<Vec<usize>> = (0..20).map(|seed| shuffled(7, seed)).collect();
        for order in &orders {
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..7).collect::<Vec<_>>());
        }
        // Every position sees more than one init over 20 seeds.
        for position in 0..7 {
            let first = orders[0][position];
            assert!(orders.iter().any(|order| order[position] != first));
        }
        assert_eq!(shuffled(0, 1), Vec::<usize>::new());
        assert_eq!(shuffled(5, 3), shuffled(5, 3));
    }
}
