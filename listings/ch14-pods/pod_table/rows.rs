//! The rows of `pod-table`: what a pod's first container and an app
//! container are, the workloads, and one row of each experiment, run
//! through the one container driver (`orphans::containers::engine`), with
//! a census taken from inside (`orphans::namespace::census`).

use std::time::Duration;

use orphans::containers::engine::{self, Container, Engine, Kind};
use orphans::containers::podman::Pod;
use orphans::namespace::census::{self, Process};
use orphans::process::{describe_status, Killable};

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
pub const TINI_STATIC: &str = "/usr/bin/tini-static";

/// How long a workload may take to say `ready`.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// What the pod's first container is.
#[derive(Clone, Debug, PartialEq)]
pub enum PodKind {
    /// No pod: the app container has a PID namespace of its own.
    Alone,
    /// A container of the project's image running this command.
    Ours(Vec<String>),
    /// A Podman pod and its infra container.
    Infra,
}

/// What runs in front of the workload in the app container.
#[derive(Clone, Debug, PartialEq)]
pub enum AppKind {
    Direct,
    /// `--init`: the engine's own init (Docker's tini, Podman's catatonit).
    EngineInit,
    /// `--init --init-path FOSTER`: foster as Podman's init.
    InitPathFoster,
    /// An init's command line (`tini -s`, `foster --grace 1s`).
    Init(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub pod: PodKind,
    pub app: AppKind,
    /// `stop -t`, in seconds.
    pub timeout: u32,
}

/// What every row needs: the engine, the image, and foster's host path.
pub struct Setup {
    pub engine: Engine,
    pub image: String,
    pub foster: String,
}

/// Why a row has no figures: the engine refused to create the app
/// container (a result in itself), or a step failed.
pub enum RowError {
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
    pub fn cells(&self, figures: usize) -> String {
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
pub enum PodGuard<'e> {
    None,
    Container(Container<'e>),
    Podman(Pod),
}

/// Starts the pod of `row`, then creates and starts the app container
/// running `workload`, in the pod's PID namespace.
pub fn start<'e>(
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
pub fn start_pod<'e>(
    setup: &'e Setup,
    pod: &PodKind,
) -> Result<(PodGuard<'e>, Vec<String>), String> {
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
pub struct Orphans {
    pid1: String,
    pub first: String,
    pub adopter: String,
    pub zombies: Vec<String>,
    pub exec_adopter: String,
}

// ANCHOR: orphans
/// Runs the `orphans` workload, waits for its orphans to exit, and takes a
/// census; then leaves an orphan with `exec` and takes another.
pub fn orphans_row(setup: &Setup, row: &Row) -> Result<Orphans, RowError> {
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
pub fn first_process(processes: &[Process], alone: bool) -> Option<&Process> {
    if alone {
        return census::by_pid(processes, 1);
    }
    processes.iter().find(|p| p.ppid == 0 && p.pid != 1)
}

/// `` `sleep` ``, or `?` for a process the census does not have.
pub fn name_of(process: Option<&Process>) -> String {
    process.map_or("?".into(), |p| format!("`{}`", p.comm))
}

/// `` `pause --no-reap` ``, `` `/catatonit -P` ``: a command line's program
/// and the options that follow it, without the command it runs (after
/// `--`) or any other argument; the name alone when the command line is
/// gone (a zombie's).
pub fn program_and_options(process: Option<&Process>) -> String {
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
pub fn parent_of(processes: &[Process], args: &str) -> String {
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
    pub fn cells(&self) -> String {
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
pub struct Stopped {
    pub took: Duration,
    pub status: i32,
    pub helper_got_sigterm: bool,
    pub helper_cleaned_up: bool,
}

// ANCHOR: stop
/// Runs the `stop` workload, stops the app container, and reads in its
/// log what the helper managed to say.
pub fn stop_row(setup: &Setup, row: &Row) -> Result<Stopped, RowError> {
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
    pub fn cells(&self, timeout: u32) -> String {
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

pub fn needs_tini(row: &Row) -> bool {
    matches!(&row.app, AppKind::Init(words) if words[0] == "tini")
}

#[cfg(test)]
mod tests {
    use super::*;

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
