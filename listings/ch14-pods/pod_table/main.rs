//! `pod-table`: runs the book's workloads in pods, containers that share
//! the PID namespace of a first container (`--pid container:NAME`, the
//! way Kubernetes builds a pod with `shareProcessNamespace: true`), or in
//! containers of their own, and prints what happened as a markdown table.
//! Chapter 14 runs it with Docker, chapter 15 with Podman.

mod cli;
mod rows;

use std::time::Instant;

use orphans::capability::{self, image_or_missing, podman_ready, Missing};
use orphans::containers::engine::{Engine, Kind};

use rows::{needs_tini, orphans_row, stop_row, AppKind, PodKind, Row, Setup, TINI_STATIC};

const USAGE: &str = "\
usage: pod-table [--engine docker|podman] orphans|stop ROW...

Each ROW is one argument, 'POD | APP', or for stop 'POD | APP | TIMEOUT':

  POD      what the pod's first container runs as its PID 1, a command of
           the project's image (`pause`, `pause --no-reap`, `pause
           --auto-reap`); `-` for no pod (the app container gets a PID
           namespace of its own); `infra` for a Podman pod
           (`podman pod create --share +pid`)
  APP      what runs in front of the workload in the app container: `-`
           nothing; `--init` the engine's init; `--init-path foster`
           foster as Podman's init; or an init as the entrypoint, with
           its options: `tini …` (Debian's static tini, copied into the
           container) or `foster …` (the image's /bin/foster)
  TIMEOUT  seconds that `stop -t` leaves before SIGKILL (default 4, 1-30)

orphans: the workload leaves five orphans that exit at once and one that
stays (`sleep 999`), then becomes `sleep 1000`; then `exec` leaves one
more orphan (`sleep 998`). The table says who is PID 1, what the app
container's first process is, who adopted the orphans, how many zombies
there are, and who adopted the orphan of `exec`.

stop: the workload starts a helper in a session of its own, which needs
1.5 s to clean up after SIGTERM, then becomes `sleep 1000`; the app
container is stopped with `stop -t TIMEOUT`. The table says how long that
took, the exit status, and whether the helper got SIGTERM and finished.

The image is the project's (see `orphans-image`). Every container runs
with --network none and is removed afterwards.

  --engine ENGINE  docker (default) or podman
  -V, --version    show the version
  -h, --help       show this help";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Experiment {
    Orphans,
    Stop,
}

#[derive(Debug, PartialEq)]
pub struct Options {
    pub engine: Kind,
    pub experiment: Experiment,
    pub rows: Vec<Row>,
}

fn main() {
    let options = orphans::cli::options_or_exit("pod-table", USAGE, cli::parse);
    let setup = match set_up(options.engine) {
        Ok(setup) => setup,
        Err(missing) => {
            println!("{}", missing.line("This table"));
            return;
        }
    };
    let tini = capability::peer_init(TINI_STATIC, "tini");
    let (runnable, skipped): (Vec<&Row>, Vec<&Row>) = options
        .rows
        .iter()
        .partition(|row| tini.is_ok() || !needs_tini(row));
    if !runnable.is_empty() {
        print_table(&setup, options.experiment, &runnable);
        if options.experiment == Experiment::Stop {
            println!("\n{}", default_grace_sentence());
        }
    }
    if let (false, Err(missing)) = (skipped.is_empty(), tini) {
        println!("\n{}", missing.line("The rows with tini"));
    }
}

/// foster's default grace, from foster's own code rather than typed here,
/// for the rows whose foster has no `--grace`.
fn default_grace_sentence() -> String {
    let grace = foster::options::Grace::DEFAULT.duration().as_secs_f64();
    format!("foster's default grace, in the rows without `--grace`, is {grace} s.")
}

/// The engine and the project's image in it, or the one line that says
/// why this machine cannot make the table.
fn set_up(engine: Kind) -> Result<Setup, Missing> {
    if engine == Kind::Podman {
        let ready = podman_ready()?;
        return Ok(Setup {
            engine: ready.engine,
            image: ready.image,
            foster: ready.foster.to_string_lossy().into_owned(),
        });
    }
    let image = image_or_missing()?;
    Ok(Setup {
        engine: Engine::docker(),
        foster: image
            .binaries_dir
            .join("foster")
            .to_string_lossy()
            .into_owned(),
        image: image.reference,
    })
}

fn print_table(setup: &Setup, experiment: Experiment, rows: &[&Row]) {
    let program = setup.engine.program();
    match experiment {
        Experiment::Orphans => {
            println!("| first container | app container runs | PID 1 | its first process | orphans went to | `{program} exec`'s orphan went to |");
            println!("|---|---|---|---|---|---|");
        }
        Experiment::Stop => {
            println!("| first container | app container runs | `stop -t` | took | exit status | helper got SIGTERM | helper cleaned up |");
            println!("|---|---|---|---|---|---|---|");
        }
    }
    for (number, row) in rows.iter().enumerate() {
        let started = Instant::now();
        let cells = match experiment {
            Experiment::Orphans => orphans_row(setup, row).map(|o| o.cells()),
            Experiment::Stop => stop_row(setup, row).map(|s| s.cells(row.timeout)),
        };
        let figures = match experiment {
            Experiment::Orphans => 4,
            Experiment::Stop => 5,
        };
        let cells = cells.unwrap_or_else(|e| e.cells(figures));
        println!(
            "| {} | {} | {cells} |",
            pod_label(&row.pod),
            app_label(&row.app)
        );
        eprintln!(
            "pod-table: row {} of {} done in {:.1} s",
            number + 1,
            rows.len(),
            started.elapsed().as_secs_f64()
        );
    }
}

fn pod_label(pod: &PodKind) -> String {
    match pod {
        PodKind::Alone => "none (own PID namespace)".into(),
        PodKind::Ours(command) => format!("`{}`", command.join(" ")),
        PodKind::Infra => "Podman's infra".into(),
    }
}

fn app_label(app: &AppKind) -> String {
    match app {
        AppKind::Direct => "the workload, no init".into(),
        AppKind::EngineInit => "`--init`".into(),
        AppKind::InitPathFoster => "`--init --init-path` foster".into(),
        AppKind::Init(words) => format!("`{}` as entrypoint", words.join(" ")),
    }
}
