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
use orphans::process::deadline::poll_until;

/// One row: foster's grace, the command's own shutdown, `docker stop -t`,
/// and how many times to run it (a tie is a race: run it more than once).
struct Race {
    grace: u64,
    shutdown: u64,
    stop_timeout: u32,
    rounds: u32,
}

/// The rows: foster's default grace (taken from foster itself) against
/// short `docker stop` timeouts, then a command that needs long to shut
/// down, with the default grace and a longer one.
fn races() -> [Race; 5] {
    let default = foster::options::Grace::DEFAULT.duration().as_secs();
    let race = |grace, shutdown, stop_timeout, rounds| Race {
        grace,
        shutdown,
        stop_timeout,
        rounds,
    };
    [
        race(default, 0, 1, 1),
        race(default, 0, 2, 3),
        race(default, 0, 3, 1),
        race(default, 6, 10, 1),
        race(5, 6, 10, 1),
    ]
}

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
    println!("| foster's grace | the command's own shutdown | `docker stop -t` | `docker stop` took | exit status | who ended it |");
    println!("|---:|---:|---:|---:|---|---|");
    let mut winners = Vec::new();
    let races = races();
    for race in &races {
        let (text, statuses) = row(race, &image);
        println!("{text}");
        winners.push(statuses);
    }
    if let [.., (long_race, long), (short_race, short)] = &races
        .iter()
        .zip(&winners)
        .filter(|(race, _)| race.shutdown > 0)
        .collect::<Vec<_>>()[..]
    {
        println!("\n{}", verdict(long_race, long, short_race, short));
    }
}

/// The sentence under the table, from its last two rows: the same slow
/// command and `docker stop` timeout, with two graces.
fn verdict(first: &Race, first_ended: &[String], second: &Race, second_ended: &[String]) -> String {
    let ended = |statuses: &[String]| match statuses {
        [status] if status == "0" => "foster's clean exit, status 0".to_string(),
        [status] if status == "137" => "Docker's SIGKILL, status 137".to_string(),
        _ => format!("statuses {}", statuses.join(" and ")),
    };
    format!(
        "With a command that needs {} s to shut down and `docker stop -t {}`, \
         a grace of {} s ended in {}, and a grace of {} s in {}: the command's \
         shutdown and foster's grace come one after the other, and both must fit \
         in Docker's timeout.",
        first.shutdown,
        first.stop_timeout,
        first.grace,
        ended(first_ended),
        second.grace,
        ended(second_ended)
    )
}

/// Runs `race` its number of rounds and formats its row: the stop times,
/// and the exit statuses with how often each came; also returns those
/// statuses.
fn row(race: &Race, image: &str) -> (String, Vec<String>) {
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
            Err(e) => times.push(format!("failed: {}", orphans::missing::one_line(&e))),
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
    let text = format!(
        "| {} s | {} s | {} | {} | {} | {} |",
        race.grace,
        race.shutdown,
        race.stop_timeout,
        times.join(", "),
        exit.join(", "),
        who.join(", ")
    );
    (
        text,
        statuses.into_iter().map(|(status, _)| status).collect(),
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
