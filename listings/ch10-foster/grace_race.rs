//! `grace-race`: foster's grace time against `docker stop -t N`. Each row
//! runs the book's image with foster as the entrypoint (`--grace G`) and a
//! command that exits on SIGTERM, after `C` seconds of its own shutdown,
//! leaving behind a process that ignores SIGTERM. `docker stop -t N` then
//! sends SIGTERM and, N seconds later, SIGKILL. If foster's grace (C + G)
//! ends first, foster kills the leftover and exits with the command's
//! status, 0; otherwise Docker's SIGKILL ends the container: 137. Prints a
//! markdown table; chapter 10 runs it.

use std::path::Path;
use std::time::Duration;

use orphans::capability::image_or_missing;
use orphans::containers::engine::Engine;
use orphans::missing::one_line;
use orphans::process::deadline::poll_until;
use orphans::table::{header_aligned, Align};

/// One row: foster's grace, the command's own shutdown, `docker stop -t`,
/// and how many times to run it (a tie is a race: run it more than once).
struct Race {
    grace: u64,
    shutdown: u64,
    stop_timeout: u32,
    rounds: u32,
}

const RACES: [Race; 5] = [
    Race {
        grace: 2,
        shutdown: 0,
        stop_timeout: 1,
        rounds: 1,
    },
    Race {
        grace: 2,
        shutdown: 0,
        stop_timeout: 2,
        rounds: 3,
    },
    Race {
        grace: 2,
        shutdown: 0,
        stop_timeout: 3,
        rounds: 1,
    },
    Race {
        grace: 2,
        shutdown: 6,
        stop_timeout: 10,
        rounds: 1,
    },
    Race {
        grace: 5,
        shutdown: 6,
        stop_timeout: 10,
        rounds: 1,
    },
];

/// The command: on SIGTERM it takes `$1` seconds, then exits 0; before,
/// it starts a process that ignores SIGTERM. Each writes a file in /out
/// once its trap is set, so that `docker stop` comes after both.
const COMMAND: &str = r#"trap '/bin/busybox sleep "$1"; exit 0' TERM
/bin/busybox sh -c 'trap "" TERM; echo > /out/leftover; while :; do /bin/busybox sleep 1; done' &
echo > /out/command
wait"#;

fn main() {
    let experiment = "The race against docker stop";
    let image = match image_or_missing() {
        Ok(image) => image.reference,
        Err(missing) => return println!("{}", missing.line(experiment)),
    };
    let columns = [
        ("foster's grace", Align::Right),
        ("the command's own shutdown", Align::Right),
        ("`docker stop -t`", Align::Right),
        ("`docker stop` took", Align::Right),
        ("exit status", Align::Left),
        ("who ended it", Align::Left),
    ];
    println!("{}", header_aligned(&columns));
    for race in &RACES {
        println!("{}", row(race, &image));
    }
}

/// Runs `race` its number of rounds and formats its row: the stop times,
/// and the exit statuses with how often each came.
fn row(race: &Race, image: &str) -> String {
    let mut times = Vec::new();
    let mut statuses: Vec<(String, u32)> = Vec::new();
    for round in 0..race.rounds {
        match run(race, image, round) {
            Ok((took, status)) => {
                times.push(format!("{:.1} s", took.as_secs_f64()));
                match statuses.iter_mut().find(|(s, _)| *s == status) {
                    Some((_, count)) => *count += 1,
                    None => statuses.push((status, 1)),
                }
            }
            Err(e) => times.push(format!("failed: {}", one_line(&e))),
        }
    }
    let of = |count: u32| {
        if race.rounds > 1 {
            format!(" ({count} of {})", race.rounds)
        } else {
            String::new()
        }
    };
    let exit: Vec<String> = statuses
        .iter()
        .map(|(s, n)| format!("{s}{}", of(*n)))
        .collect();
    let who: Vec<String> = statuses
        .iter()
        .map(|(s, n)| {
            let name = match s.as_str() {
                "0" => "foster",
                "137" => "Docker's SIGKILL",
                _ => "?",
            };
            format!("{name}{}", of(*n))
        })
        .collect();
    format!(
        "| {} s | {} s | {} | {} | {} | {} |",
        race.grace,
        race.shutdown,
        race.stop_timeout,
        times.join(", "),
        exit.join(", "),
        who.join(", ")
    )
}

/// One container: started, stopped with `docker stop -t N`, removed.
/// Returns how long `docker stop` took and the container's exit status.
fn run(race: &Race, image: &str, round: u32) -> Result<(Duration, String), String> {
    let out =
        std::env::temp_dir().join(format!("orphans-grace-race-{}-{round}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("mkdir: {e}"))?;
    let result = start_and_stop(race, image, &out);
    let _ = std::fs::remove_dir_all(&out);
    result
}

fn start_and_stop(race: &Race, image: &str, out: &Path) -> Result<(Duration, String), String> {
    let options = [
        "-v".to_string(),
        format!("{}:/out", out.display()),
        "--entrypoint".into(),
        "/bin/foster".into(),
    ];
    let command = [
        "--grace".to_string(),
        format!("{}s", race.grace),
        "--".into(),
        "/bin/busybox".into(),
        "sh".into(),
        "-c".into(),
        COMMAND.into(),
        "command".into(),
        race.shutdown.to_string(),
    ];
    let docker = Engine::docker();
    // Removed when dropped, at the end of the round.
    let container = docker.create(&options, image, &command)?;
    container.start()?;
    for file in ["command", "leftover"] {
        wait_for(&out.join(file))?;
    }
    let took = container.stop(race.stop_timeout)?;
    let status = container.exit_code()?;
    Ok((took, status.to_string()))
}

/// Waits (20 s at most) for `path` to exist.
fn wait_for(path: &Path) -> Result<(), String> {
    poll_until(Duration::from_secs(20), Duration::from_millis(10), || {
        path.exists().then_some(())
    })
    .ok_or_else(|| format!("the container never wrote {}", path.display()))
}
