//! Kubernetes' exec probes, as far as one machine with Docker can show
//! them: `docker exec` runs a probe in a container whose PID 1 is a
//! `sleep` that never reaps, as the kubelet's exec probe (through the
//! runtime's exec) runs one in a container of a pod. Each probe leaves an
//! orphan, which the kernel hands to the container's PID 1 (chapter 14).

use std::time::Duration;

use orphans::capability::image_or_missing;
use orphans::containers::engine::{Container, Engine};
use orphans::missing::NotShown;
use orphans::namespace::census;

/// Where the probe lives in the container.
const PROBE: &str = "/probe.sh";

/// The cases: the container's options, and what `docker exec` runs.
const CASES: [(&[&str], &[&str]); 3] = [
    (&[], &["sh", PROBE]),
    (&["--init"], &["sh", PROBE]),
    (&[], &["foster", "--", "sh", PROBE]),
];

/// How long the probes' orphans get to exit after the last probe (each
/// sleeps 0.1 s) before the zombies are counted.
const SETTLE: Duration = Duration::from_millis(500);

/// What one case found: PID 1's command line, what each probe ran, and
/// the zombies left after all the probes.
pub struct Found {
    pub pid1: String,
    pub probe: String,
    pub zombies: usize,
}

/// Runs the probe `probe_script` `count` times in each case.
pub fn measure(count: u32, probe_script: &str) -> Result<Vec<Found>, NotShown> {
    let image = image_or_missing()?.reference;
    let probe_file = std::env::temp_dir().join(format!("orphans-probe-{}.sh", std::process::id()));
    std::fs::write(&probe_file, probe_script)
        .map_err(|e| format!("writing {}: {e}", probe_file.display()))?;
    let docker = Engine::docker();
    let file = probe_file.to_string_lossy();
    let found: Result<Vec<Found>, String> = CASES
        .iter()
        .map(|(options, probe)| probe_case(&docker, &image, &file, options, probe, count))
        .collect();
    let _ = std::fs::remove_file(&probe_file);
    Ok(found?)
}

// ANCHOR: probes
/// Starts a container of `image` running `sleep 999` (with the `docker
/// run` options `options`), runs `probe` in it `count` times with `docker
/// exec`, and counts the zombies its namespace then holds.
fn probe_case(
    docker: &Engine,
    image: &str,
    probe_file: &str,
    options: &[&str],
    probe: &[&str],
    count: u32,
) -> Result<Found, String> {
    let options: Vec<String> = options.iter().map(|o| o.to_string()).collect();
    let sleep = ["sleep".to_string(), "999".to_string()];
    // Removed when dropped, also on the error paths.
    let container: Container = docker.create(&options, image, &sleep)?;
    container.copy_in(probe_file, PROBE)?;
    container.start()?;
    for n in 1..=count {
        container.exec(probe)?;
        if n % 25 == 0 {
            eprintln!("runtime-table: {n} probes ({})", probe.join(" "));
        }
    }
    std::thread::sleep(SETTLE);
    let processes = census::of_container(&container)?;
    Ok(Found {
        pid1: census::by_pid(&processes, 1).map_or("?".into(), |p| p.args.clone()),
        probe: probe.join(" "),
        zombies: census::zombies(&processes).len(),
    })
}
// ANCHOR_END: probes
