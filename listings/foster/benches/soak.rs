//! The soak benchmark: foster reaps a million orphans, and its memory and
//! open files do not grow. Prints figures; checks nothing by time.
//!
//! ```sh
//! cargo bench -p foster --bench soak                 # 1,000,000 orphans
//! cargo bench -p foster --bench soak -- --orphans 200000
//! ```
//!
//! foster runs as an ordinary process (a child subreaper: no privilege
//! needed), with this program itself as its command, in the role of an
//! orphan maker: it forks a child per batch of 100, the child forks 100
//! grandchildren that exit at once and exits without waiting for them, so
//! all 100 become foster's orphans. At checkpoints (10,000 orphans, then
//! every 100,000, and the end) the maker waits while the driver, once
//! foster has no zombie left, reads foster's resident memory (`VmRSS`) and
//! its count of open file descriptors in `/proc`. Progress goes to stderr,
//! the table to stdout. Run without `--bench` (as `cargo test --benches`
//! does), it makes 20,000 orphans only.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// This build's foster, or the one `FOSTER_UNDER_TEST` names (another
/// build, or another init that takes `--grace 0 --`… none does: foster's).
fn foster_binary() -> String {
    std::env::var("FOSTER_UNDER_TEST").unwrap_or_else(|_| env!("CARGO_BIN_EXE_foster").into())
}
/// Orphans per batch: each batch costs one extra fork, its parent's.
const BATCH: u64 = 100;
/// The first checkpoint, the figure the end is compared with.
const FIRST: u64 = 10_000;
const EVERY: u64 = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("maker") {
        let count = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(0);
        return make_orphans(count);
    }
    let benching = args.iter().any(|a| a == "--bench");
    let orphans = match args.iter().position(|a| a == "--orphans") {
        Some(at) => match args.get(at + 1).and_then(|n| n.parse::<u64>().ok()) {
            Some(n) if n >= FIRST => n,
            _ => usage(),
        },
        None if benching => 1_000_000,
        None => 20_000,
    };
    drive(orphans);
}

fn usage() -> ! {
    eprintln!("usage: soak [--orphans N]   (N at least {FIRST}; default 1000000)");
    std::process::exit(2)
}

/// The checkpoints for `orphans`: 10,000, every 100,000, and the end.
fn checkpoints(orphans: u64) -> Vec<u64> {
    let mut points = vec![FIRST];
    points.extend((1..).map(|k| k * EVERY).take_while(|&p| p < orphans));
    points.push(orphans);
    points.dedup();
    points
}

/// The maker's side: `count` orphans in batches, pausing at each
/// checkpoint until the driver writes a line.
fn make_orphans(count: u64) {
    let stops = checkpoints(count);
    let mut stdin = std::io::stdin().lock();
    let mut made = 0;
    for stop in stops {
        while made < stop {
            let batch = BATCH.min(stop - made);
            orphan_a_batch(batch);
            made += batch;
        }
        println!("made {made}");
        let _ = std::io::stdout().flush();
        let mut go = String::new();
        if stdin.read_line(&mut go).unwrap_or(0) == 0 {
            return;
        }
    }
}

/// Forks a child that forks `size` grandchildren, which exit at once, and
/// exits itself; then reaps that child (its children are foster's now).
fn orphan_a_batch(size: u64) {
    // SAFETY: fork(2) in a single-threaded program; the children call only
    // fork(2) and _exit(2), which are async-signal-safe, and touch no
    // memory the parent shares.
    unsafe {
        match libc::fork() {
            0 => {
                for _ in 0..size {
                    if libc::fork() == 0 {
                        libc::_exit(0);
                    }
                }
                libc::_exit(0);
            }
            -1 => panic!("fork: {}", std::io::Error::last_os_error()),
            child => {
                let mut status = 0;
                libc::waitpid(child, &mut status, 0);
            }
        }
    }
}

/// One reading of foster at a checkpoint.
struct Sample {
    orphans: u64,
    rss_kib: u64,
    fds: usize,
    elapsed: Duration,
}

/// The driver's side: starts foster with the maker as its command, takes a
/// [`Sample`] at each checkpoint, prints them.
fn drive(orphans: u64) {
    let me = std::env::current_exe().expect("the benchmark's own path");
    let binary = foster_binary();
    let mut foster = Command::new(&binary)
        .args(["--grace", "0", "--"])
        .arg(me)
        .args(["maker", &orphans.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start foster");
    let pid = foster.id();
    let mut to_maker = foster.stdin.take().expect("piped stdin");
    let mut from_maker = BufReader::new(foster.stdout.take().expect("piped stdout"));
    eprintln!("soak: foster {binary} (PID {pid}), {orphans} orphans");
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut line = String::new();
    while from_maker.read_line(&mut line).unwrap_or(0) > 0 {
        let made: u64 = line.trim().trim_start_matches("made ").parse().unwrap_or(0);
        line.clear();
        wait_until_no_zombie(pid);
        let sample = Sample {
            orphans: made,
            rss_kib: rss_kib(pid),
            fds: open_fds(pid),
            elapsed: started.elapsed(),
        };
        eprintln!(
            "soak: {made} orphans reaped, {:.1} s, RSS {} KiB, {} fds",
            sample.elapsed.as_secs_f64(),
            sample.rss_kib,
            sample.fds
        );
        samples.push(sample);
        if writeln!(to_maker, "go").is_err() {
            break;
        }
    }
    let cpu = cpu_seconds(pid);
    drop(to_maker);
    let status = foster.wait().expect("wait for foster");
    print_table(&samples, cpu, status.code());
}

/// Waits (10 s at most) until foster has no zombie among its children.
fn wait_until_no_zombie(foster: u32) {
    for _ in 0..1000 {
        let children = std::fs::read_to_string(format!("/proc/{foster}/task/{foster}/children"))
            .unwrap_or_default();
        let zombie = children
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
            .any(|p| foster::procfs::state(p) == Some('Z'));
        if !zombie {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("soak: warning: zombies left after 10 s");
}

/// foster's resident memory (`VmRSS`, proc(5)), in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How many file descriptors foster has open (`/proc/PID/fd`).
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

/// foster's CPU time so far, user and system (fields 14 and 15 of
/// `/proc/PID/stat`, in clock ticks; 100 a second on Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // After the name: state (not a number), then fields 4…; utime is 14.
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

fn print_table(samples: &[Sample], cpu: f64, status: Option<i32>) {
    println!("| orphans reaped | seconds | foster's RSS (KiB) | foster's open fds |");
    println!("|---:|---:|---:|---:|");
    for s in samples {
        println!(
            "| {} | {:.1} | {} | {} |",
            s.orphans,
            s.elapsed.as_secs_f64(),
            s.rss_kib,
            s.fds
        );
    }
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        println!("\nno checkpoint reached (foster's status: {status:?})");
        return;
    };
    let rate = last.orphans as f64 / last.elapsed.as_secs_f64().max(0.001);
    println!(
        "\n{} orphans in {:.1} s ({rate:.0}/s); foster's CPU {cpu:.2} s ({:.2} µs an orphan); \
         RSS {} KiB after {}, {} KiB at the end; open fds {} and {}; foster exited {status:?}",
        last.orphans,
        last.elapsed.as_secs_f64(),
        cpu * 1e6 / last.orphans.max(1) as f64,
        first.rss_kib,
        first.orphans,
        last.rss_kib,
        first.fds,
        last.fds
    );
}
