//! `pod-table`: runs the book's workloads in pods, containers that share
//! the PID namespace of a first container (`--pid container:NAME`, the
//! way Kubernetes builds a pod with `shareProcessNamespace: true`), or in
//! containers of their own, and prints what happened as a markdown table.
//! Chapter 14 runs it with Docker, chapter 15 with Podman.

use std::ffi::{OsStr, OsString};
use std::time::{Duration, Instant};

use orphans::capability::{self, image_or_missing, podman_ready, Missing};
use orphans::cli::{self, Request};
use orphans::containers::engine::{self, Container, Engine, Kind};
use orphans::containers::podman::Pod;
use orphans::namespace::census::{self, Process};
use orphans::process::{describe_status, Killable};

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

// ANCHOR: workloads
/// The `orphans` workload, run by the image's busybox sh. Each `( … &)` is
/// a subshell that starts a `sleep` and exits at once: the `sleep` is an
/// orphan, and the kernel hands it to the nearest subreaper, or else to
/// PID 1 of the namespace.
const ORPHANS: &str = "for i in 1 2 3 4 5; do (sleep 0.2 &); done
(sleep 999 &)
echo ready
exec sleep 1000";

/// What `exec` runs in the app container once the workload is ready.
const EXEC_ORPHAN: &str = "(sleep 998 >/dev/null 2>&1 &)";

/// The `stop` workload: a helper in a session of its own (like a daemon
/// a script started) that needs 1.5 s to clean up after SIGTERM: less
/// than foster's default grace, more than a `stop -t 1` or a `--grace 1s`.
/// busybox sh runs a trap once the foreground `sleep 0.05` is over.
const STOP: &str = "setsid sh -c 'trap \"echo helper: SIGTERM; sleep 1.5; \
echo helper: cleaned up; exit 0\" TERM; echo helper: ready; \
while :; do sleep 0.05; done' &
echo ready
exec sleep 1000";
// ANCHOR_END: workloads

/// Where Debian's tini package puts its static build.
const TINI_STATIC: &str = "/usr/bin/tini-static";

/// How long a workload may take to say `ready`.
const PATIENCE: Duration = Duration::from_secs(15);

/// What the pod's first container is.
#[derive(Clone, Debug, PartialEq)]
enum PodKind {
    /// No pod: the app container has a PID namespace of its own.
    Alone,
    /// A container of the project's image running this command.
    Ours(Vec<String>),
    /// A Podman pod and its infra container.
    Infra,
}

/// What runs in front of the workload in the app container.
#[derive(Clone, Debug, PartialEq)]
enum AppKind {
    Direct,
    /// `--init`: the engine's own init (Docker's tini, Podman's catatonit).
    EngineInit,
    /// `--init --init-path FOSTER`: foster as Podman's init.
    InitPathFoster,
    /// An init's command line (`tini -s`, `foster --grace 1s`).
    Init(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
struct Row {
    pod: PodKind,
    app: AppKind,
    /// `stop -t`, in seconds.
    timeout: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Experiment {
    Orphans,
    Stop,
}

#[derive(Debug, PartialEq)]
struct Options {
    engine: Kind,
    experiment: Experiment,
    rows: Vec<Row>,
}

/// What every row needs: the engine, the image, and foster's host path.
struct Setup {
    engine: Engine,
    image: String,
    foster: String,
}

fn main() {
    let options = cli::options_or_exit("pod-table", USAGE, parse);
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

/// Why a row has no figures: the engine refused to create the app
/// container (a result in itself), or a step failed.
enum RowError {
    Refused(String),
    Failed(String),
}

impl From<String> for RowError {
    fn from(e: String) -> RowError {
        RowError::Failed(e)
    }
}

impl From<engine::Error> for RowError {
    fn from(e: engine::Error) -> RowError {
        RowError::Failed(e.to_string())
    }
}

impl RowError {
    /// One cell with the reason, then empty cells to fill the row's
    /// `figures` columns.
    fn cells(&self, figures: usize) -> String {
        let empty = " |".repeat(figures.saturating_sub(1));
        match self {
            RowError::Refused(why) => format!("*refused:* {why}{empty}"),
            RowError::Failed(why) => format!("*failed:* {why}{empty}"),
        }
    }
}

// ANCHOR: start
/// The pod's first container or Podman pod, kept only to be dropped:
/// dropping it removes the pod, once the app container is gone.
#[allow(dead_code)]
enum PodGuard<'e> {
    None,
    Container(Container<'e>),
    Podman(Pod),
}

/// Starts the pod of `row`, then creates and starts the app container
/// running `workload`, in the pod's PID namespace.
fn start<'e>(
    setup: &'e Setup,
    row: &Row,
    workload: &str,
) -> Result<(PodGuard<'e>, Container<'e>), RowError> {
    let (pod, mut options) = start_pod(setup, &row.pod)?;
    let mut command: Vec<String> = Vec::new();
    match &row.app {
        AppKind::Direct => {}
        AppKind::EngineInit => options.push("--init".into()),
        AppKind::InitPathFoster => {
            options.extend(["--init".into(), "--init-path".into(), setup.foster.clone()])
        }
        // The init is the container's entrypoint, its options and `--`
        // the first words of the command.
        AppKind::Init(words) => {
            options.extend(["--entrypoint".into(), format!("/bin/{}", words[0])]);
            command.extend(words[1..].iter().cloned());
            command.push("--".into());
        }
    }
    command.extend(["/bin/sh".into(), "-c".into(), workload.into()]);
    let app = setup
        .engine
        .create(&options, &setup.image, &command)
        .map_err(|e| match e {
            // The engine's own words for what it would not create.
            engine::Error::Failed { said, .. } => RowError::Refused(said),
            other => RowError::Failed(other.to_string()),
        })?;
    if needs_tini(row) {
        app.copy_in(TINI_STATIC, "/bin/tini")?;
    }
    app.start()?;
    Ok((pod, app))
}

/// The pod's first container (or Podman pod), and the options that put an
/// app container into its PID namespace.
fn start_pod<'e>(setup: &'e Setup, pod: &PodKind) -> Result<(PodGuard<'e>, Vec<String>), String> {
    match pod {
        PodKind::Alone => Ok((PodGuard::None, Vec::new())),
        PodKind::Ours(command) => {
            let first = setup.engine.create(&[], &setup.image, command)?;
            first.start()?;
            let join = vec!["--pid".into(), format!("container:{}", first.name)];
            Ok((PodGuard::Container(first), join))
        }
        PodKind::Infra if setup.engine.kind == Kind::Podman => {
            let pod = Pod::create()?;
            let join = vec!["--pod".into(), pod.name.clone()];
            Ok((PodGuard::Podman(pod), join))
        }
        PodKind::Infra => Err("`infra` pods are Podman's".into()),
    }
}
// ANCHOR_END: start

/// What the `orphans` workload left.
struct Orphans {
    pid1: String,
    first: String,
    adopter: String,
    zombies: Vec<String>,
    exec_adopter: String,
}

// ANCHOR: orphans
/// Runs the `orphans` workload, waits for its orphans to exit, and takes a
/// census; then leaves an orphan with `exec` and takes another.
fn orphans_row(setup: &Setup, row: &Row) -> Result<Orphans, RowError> {
    let (_pod, app) = start(setup, row, ORPHANS)?;
    app.wait_for_line("ready", PATIENCE)?;
    // The five orphans exit 0.2 s after they start; give their adopter
    // time to reap them, if it reaps.
    std::thread::sleep(Duration::from_secs(1));
    let before = census::of_container(&app)?;
    app.exec(&["/bin/sh", "-c", EXEC_ORPHAN])?;
    std::thread::sleep(Duration::from_millis(300));
    let after = census::of_container(&app)?;
    let first = first_process(&before, row.pod == PodKind::Alone);
    Ok(Orphans {
        pid1: program_and_options(census::by_pid(&before, 1)),
        first: name_of(first),
        adopter: parent_of(&before, "sleep 999"),
        zombies: census::zombies(&before)
            .iter()
            .map(|zombie| name_of(census::by_pid(&before, zombie.ppid)))
            .collect(),
        exec_adopter: parent_of(&after, "sleep 998"),
    })
}
// ANCHOR_END: orphans

/// The app container's first process: PID 1 when it has a namespace of
/// its own; in a pod, the process whose parent is outside the namespace
/// (PPID 0) and that is not the pod's PID 1.
fn first_process(processes: &[Process], alone: bool) -> Option<&Process> {
    if alone {
        return census::by_pid(processes, 1);
    }
    processes.iter().find(|p| p.ppid == 0 && p.pid != 1)
}

/// `` `sleep` ``, or `?` for a process the census does not have.
fn name_of(process: Option<&Process>) -> String {
    process.map_or("?".into(), |p| format!("`{}`", p.comm))
}

/// `` `pause --no-reap` ``, `` `/catatonit -P` ``: a command line's program
/// and the options that follow it, without the command it runs (after
/// `--`) or any other argument; the name alone when the command line is
/// gone (a zombie's).
fn program_and_options(process: Option<&Process>) -> String {
    let Some(process) = process else {
        return "?".into();
    };
    let mut words = process.args.split_whitespace();
    let Some(program) = words.next() else {
        return name_of(Some(process));
    };
    let options = words.take_while(|w| w.starts_with('-') && *w != "--");
    let shown: Vec<&str> = std::iter::once(program).chain(options).collect();
    format!("`{}`", shown.join(" "))
}

/// Who is the parent of the process running `args`, and whether it is
/// PID 1.
fn parent_of(processes: &[Process], args: &str) -> String {
    let Some(orphan) = census::by_args(processes, args) else {
        return format!("(no `{args}`)");
    };
    let parent = name_of(census::by_pid(processes, orphan.ppid));
    if orphan.ppid == 1 {
        format!("{parent} (PID 1)")
    } else {
        parent
    }
}

impl Orphans {
    /// The four figures of a row; whether the orphans were reaped goes
    /// with who adopted them, to keep the table narrow.
    fn cells(&self) -> String {
        let fate = match self.zombies.first() {
            None => "reaped".to_string(),
            Some(parent) if self.zombies.iter().all(|p| p == parent) => {
                format!("{} zombies of {parent}", self.zombies.len())
            }
            Some(_) => format!(
                "{} zombies ({})",
                self.zombies.len(),
                self.zombies.join(", ")
            ),
        };
        format!(
            "{} | {} | {}: {fate} | {}",
            self.pid1, self.first, self.adopter, self.exec_adopter
        )
    }
}

/// What stopping the app container did.
struct Stopped {
    took: Duration,
    status: i32,
    helper_got_sigterm: bool,
    helper_cleaned_up: bool,
}

// ANCHOR: stop
/// Runs the `stop` workload, stops the app container, and reads in its
/// log what the helper managed to say.
fn stop_row(setup: &Setup, row: &Row) -> Result<Stopped, RowError> {
    let (_pod, app) = start(setup, row, STOP)?;
    app.wait_for_line("ready", PATIENCE)?;
    app.wait_for_line("helper: ready", PATIENCE)?;
    let took = app.stop(row.timeout)?;
    let status = app.exit_code()?;
    let log = app.logs()?;
    let said = |line: &str| log.lines().any(|l| l == line);
    Ok(Stopped {
        took,
        status,
        helper_got_sigterm: said("helper: SIGTERM"),
        helper_cleaned_up: said("helper: cleaned up"),
    })
}
// ANCHOR_END: stop

impl Stopped {
    fn cells(&self, timeout: u32) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        format!(
            "`-t {timeout}` | {:.1} s | {} | {} | {}",
            self.took.as_secs_f64(),
            describe_status(self.status, Killable::ByAnySignal),
            yes_no(self.helper_got_sigterm),
            yes_no(self.helper_cleaned_up)
        )
    }
}

fn needs_tini(row: &Row) -> bool {
    matches!(&row.app, AppKind::Init(words) if words[0] == "tini")
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

/// The options, then the experiment, then its rows: what follows the
/// experiment is taken as rows, whatever it looks like.
fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut engine = Kind::Docker;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("engine") => {
                engine = match cli::text(parser.value())?.as_str() {
                    "docker" => Kind::Docker,
                    "podman" => Kind::Podman,
                    _ => return Err("--engine takes docker or podman".into()),
                }
            }
            Value(word) => {
                let experiment = experiment(&word)?;
                // Every argument after the experiment is a ROW, even one
                // that starts with `-` (`'- | --init'`).
                let rows = parser
                    .raw_args()
                    .map_err(cli::error)?
                    .map(|row| parse_row(&cli::text(Ok(row))?))
                    .collect::<Result<Vec<Row>, String>>()?;
                if rows.is_empty() {
                    return Err("no ROW given".into());
                }
                return Ok(Request::Run(Options {
                    engine,
                    experiment,
                    rows,
                }));
            }
            other => return cli::other(other),
        }
    }
    Err("no experiment given (orphans or stop)".into())
}

/// `orphans` or `stop`.
fn experiment(word: &OsStr) -> Result<Experiment, String> {
    match word.to_str() {
        Some("orphans") => Ok(Experiment::Orphans),
        Some("stop") => Ok(Experiment::Stop),
        _ => Err(format!(
            "'{}' is not an experiment (orphans or stop)",
            word.to_string_lossy()
        )),
    }
}

/// Reads one ROW: `POD | APP` or `POD | APP | TIMEOUT`.
fn parse_row(text: &str) -> Result<Row, String> {
    let fields: Vec<Vec<String>> = text
        .split('|')
        .map(|field| field.split_whitespace().map(String::from).collect())
        .collect();
    let (pod, app, timeout) = match fields.as_slice() {
        [pod, app] => (pod, app, 4),
        [pod, app, timeout] => (pod, app, parse_timeout(timeout)?),
        _ => {
            return Err(format!(
                "'{text}': a ROW is 'POD | APP' or 'POD | APP | TIMEOUT'"
            ))
        }
    };
    Ok(Row {
        pod: parse_pod(pod).map_err(|e| format!("'{text}': {e}"))?,
        app: parse_app(app).map_err(|e| format!("'{text}': {e}"))?,
        timeout,
    })
}

fn parse_pod(words: &[String]) -> Result<PodKind, String> {
    match words {
        [] => Err("POD is empty".into()),
        [dash] if dash == "-" => Ok(PodKind::Alone),
        [infra] if infra == "infra" => Ok(PodKind::Infra),
        command => Ok(PodKind::Ours(command.to_vec())),
    }
}

fn parse_app(words: &[String]) -> Result<AppKind, String> {
    match words {
        [dash] if dash == "-" => Ok(AppKind::Direct),
        [init] if init == "--init" => Ok(AppKind::EngineInit),
        [option, foster] if option == "--init-path" && foster == "foster" => {
            Ok(AppKind::InitPathFoster)
        }
        [first, ..] if first == "tini" || first == "foster" => Ok(AppKind::Init(words.to_vec())),
        _ => {
            Err("APP is -, --init, --init-path foster, or a command line of tini or foster".into())
        }
    }
}

fn parse_timeout(words: &[String]) -> Result<u32, String> {
    match words {
        [number] => match number.parse::<u32>() {
            Ok(seconds) if (1..=30).contains(&seconds) => Ok(seconds),
            _ => Err(format!(
                "TIMEOUT '{number}' is not a whole number of seconds from 1 to 30"
            )),
        },
        _ => Err("TIMEOUT is one number of seconds".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn rows_name_a_pod_and_an_app() {
        let row = parse_row("pause --no-reap | tini -s").expect("a row");
        assert_eq!(row.pod, PodKind::Ours(words("pause --no-reap")));
        assert_eq!(row.app, AppKind::Init(words("tini -s")));
        assert_eq!(row.timeout, 4);
        let row = parse_row(" - | --init | 2 ").expect("a row");
        assert_eq!(
            (row.pod, row.app, row.timeout),
            (PodKind::Alone, AppKind::EngineInit, 2)
        );
        let row = parse_row("infra | --init-path foster").expect("a row");
        assert_eq!(
            (row.pod, row.app),
            (PodKind::Infra, AppKind::InitPathFoster)
        );
    }

    #[test]
    fn bad_rows_are_refused_with_a_reason() {
        for bad in [
            "pause",
            "| -",
            "pause | bash",
            "pause | - | 0",
            "pause | - | 4 | 5",
            "pause | - | x",
        ] {
            assert!(parse_row(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_then_the_experiment_then_its_rows() {
        let o = options(parse, &["orphans", "- | -", "pause | --init"]);
        assert_eq!(
            (o.engine, o.experiment),
            (Kind::Docker, Experiment::Orphans)
        );
        assert_eq!(o.rows.len(), 2);
        assert_eq!(o.rows[1].app, AppKind::EngineInit);
        let o = options(parse, &["--engine", "podman", "stop", "- | -"]);
        assert_eq!((o.engine, o.experiment), (Kind::Podman, Experiment::Stop));
        help_and_version(parse);
        for (args, reason) in [
            (&[][..], "no experiment given"),
            (&["orphans"], "no ROW given"),
            (&["zombies", "- | -"], "not an experiment"),
            (&["--engine", "lxc", "stop", "- | -"], "docker or podman"),
            (&["stop", "- | -", "--help"], "a ROW is"),
            (&["--bogus"], "--bogus"),
        ] {
            let message = refusal(parse, args);
            assert!(message.contains(reason), "{args:?}: {message}");
        }
    }

    #[test]
    fn the_first_process_of_an_app_in_a_pod_has_its_parent_outside() {
        let process = |pid, ppid, comm: &str| Process {
            pid,
            ppid,
            state: 'S',
            comm: comm.into(),
            args: format!("{comm} {pid}"),
        };
        let pod = [
            process(1, 0, "pause"),
            process(7, 0, "tini"),
            process(9, 7, "sleep"),
        ];
        assert_eq!(first_process(&pod, false).map(|p| p.pid), Some(7));
        assert_eq!(first_process(&pod, true).map(|p| p.pid), Some(1));
        assert_eq!(parent_of(&pod, "sleep 9"), "`tini`");
        assert_eq!(parent_of(&pod, "tini 7"), "?");
        assert_eq!(parent_of(&pod, "nothing"), "(no `nothing`)");
        let pid1 = |args: &str| Process {
            args: args.into(),
            ..process(1, 0, "init")
        };
        let shown = |args: &str| program_and_options(Some(&pid1(args)));
        assert_eq!(shown("pause --no-reap"), "`pause --no-reap`");
        assert_eq!(shown("/catatonit -P"), "`/catatonit -P`");
        assert_eq!(
            shown("/run/podman-init -- /bin/sh -c x"),
            "`/run/podman-init`"
        );
        assert_eq!(shown("sleep 1000"), "`sleep`");
        assert_eq!(shown(""), "`init`");
    }
}
