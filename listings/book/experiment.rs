//! `experiment`: one experiment of the book, as a chapter's `cmdrun` line
//! runs it. Every such line goes through this program, so that they all
//! find the book's programs the same way (through cargo, wherever
//! `CARGO_TARGET_DIR` is), say in one line what this machine cannot run,
//! report progress to the terminal of the book's build, and are not run
//! again when nothing they depend on changed.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use foster::procfs::{comm, parent_of};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use orphans::bounds;
use orphans::capability::{self, failed_line, line_for, Missing, NOT_RUN};
use orphans::cli::{self, fail, Request};
use orphans::spawn::{dying_with_us, own_dir};
use orphans::workspace::{cache_dir, file_stamp, project_dir, write_atomically, Fnv64};

const USAGE: &str = "\
usage: experiment --chapter N --what TEXT [--needs NAMES] [--wants NAMES]
                  [--text] [--timeout SECONDS] [--no-build] [--] COMMAND [ARGS...]
       experiment --check [--require NAMES]

Runs one experiment of the book and prints, on stdout, what the page shows.

First builds the book's programs (cargo build --bins --examples), then runs
COMMAND with them first on $PATH, in the current directory.

  --chapter N        the chapter, for progress lines
  --what TEXT        what the experiment shows, as a page names it (\"The
                     probe under Docker\"): the subject of any one-line note
  --needs NAMES      components COMMAND cannot run without (comma-separated,
                     see below): if one is missing, COMMAND is not run and
                     the page gets one line: what, why, and how to get it
  --wants NAMES      components COMMAND is better with: it runs anyway, and
                     that line follows its output
  --text             show COMMAND's output as preformatted text (a ```text
                     block); the one-line notes stay outside it
  --timeout SECONDS  stop COMMAND (and all it started) after this long
                     (default 300, at most 3600); its output so far and one
                     line saying so make the page
  --no-build         do not build first (the programs are built already)
  --check            print what this machine can run, component by component
  --require NAMES    with --check: exit 1 if one of these is missing
  -V, --version      show the version
  -h, --help         show this help

Components: namespaces (PID namespaces), docker (an engine that can run
containers), busybox (static, for the image), image (the project's image,
built if needed; its name in $ORPHANS_IMAGE), musl (the musl target),
static-foster (foster's static build, made if the musl target is there,
else the debug build; its path in $ORPHANS_FOSTER), peer-inits (tini,
tini-static, dumb-init, catatonit), browser (Chromium and chromedriver),
podman (Podman answers).

A COMMAND that fails never fails the book: its output so far and one line
saying so make the page, and the exit status is 0 (2 for bad arguments).

The output of a run that succeeded is remembered in the target directory
(orphans-cache/experiments): the same command, with the same build of the
book's programs, on the same machine, prints it again without running
COMMAND. ORPHANS_RERUN=1 runs every experiment again. Outputs that say
something was not run are never remembered.

Progress (start, end, seconds; cargo's and COMMAND's stderr) goes to the
terminal of the book's build: mdbook-cmdrun keeps its commands' stderr to
itself, so this program writes to mdbook-cmdrun's own stderr when it runs
below it, else to its own.";

/// The components a chapter's line can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Component {
    Namespaces,
    Docker,
    Busybox,
    Image,
    Musl,
    StaticFoster,
    PeerInits,
    Browser,
    Podman,
}

const COMPONENTS: [(&str, Component, &str); 9] = [
    (
        "namespaces",
        Component::Namespaces,
        "chapters 5 to 10 and 12",
    ),
    ("docker", Component::Docker, "chapters 5, 7, 8, 9 and 11"),
    ("busybox", Component::Busybox, "the project's image"),
    ("image", Component::Image, "chapters 5, 7, 8, 9 and 11"),
    (
        "musl",
        Component::Musl,
        "the static foster of chapters 10 and 12",
    ),
    (
        "static-foster",
        Component::StaticFoster,
        "chapter 12 measures it",
    ),
    ("peer-inits", Component::PeerInits, "chapter 12's columns"),
    ("browser", Component::Browser, "tests/browser.rs"),
    (
        "podman",
        Component::Podman,
        "chapter 15 and tests/podman.rs",
    ),
];

struct Options {
    chapter: String,
    what: String,
    needs: Vec<Component>,
    wants: Vec<Component>,
    /// Show the output in a ```text block.
    text: bool,
    timeout: Duration,
    build: bool,
    command: Vec<OsString>,
}

enum Mode {
    Run(Options),
    Check { require: Vec<Component> },
}

fn main() {
    let mode = cli::options_or_exit("experiment", USAGE, parse);
    let progress = Progress::to_build_log();
    match mode {
        Mode::Check { require } => check(&require),
        Mode::Run(options) => run_experiment(&options, progress),
    }
}

/// Runs the experiment, or recalls its output, or says why it cannot run,
/// and prints the page's part on stdout.
fn run_experiment(options: &Options, mut progress: Progress) {
    progress.label = format!("chapter {}, {}", options.chapter, options.what);
    if options.build && !build_the_books_programs(&mut progress) {
        let why = "the book's programs do not build (`cargo build --bins --examples` failed)";
        print_page(&failed_line(&options.what, why));
        return;
    }
    let memory = Memory::new(options);
    if std::env::var("ORPHANS_RERUN").as_deref() != Ok("1") {
        if let Some((page, age)) = memory.recall() {
            progress.say(&format!("reused the output of a run {} ago", minutes(age)));
            print_page(&page);
            return;
        }
    }
    progress.say("started");
    let started = Instant::now();
    let missing = missing_components(&options.needs);
    if !missing.is_empty() {
        progress.say(&format!("not run: it needs {}", names(&missing)));
        print_page(&line_for(&options.what, &missing));
        return;
    }
    let provided = match provide(options, &mut progress) {
        Ok(provided) => provided,
        Err(why) => {
            progress.say(&format!("failed: {why}"));
            print_page(&failed_line(&options.what, &why));
            return;
        }
    };
    let ran = run_command(options, &provided.environment, &mut progress);
    let seconds = started.elapsed().as_secs_f64();
    let mut page = if options.text && !ran.stdout.trim().is_empty() {
        format!("```text\n{}\n```\n", ran.stdout.trim_end_matches('\n'))
    } else {
        ran.stdout.clone()
    };
    match &ran.failure {
        None => {
            progress.say(&format!("done in {seconds:.1} s"));
            if !ran.stdout.contains(NOT_RUN) {
                memory.store(&page, &provided.notes);
            }
        }
        Some(failure) => {
            progress.say(&format!("failed after {seconds:.1} s: {failure}"));
            page = with_line(&page, &failed_line(&options.what, failure));
        }
    }
    for note in &provided.notes {
        page = with_line(&page, note);
    }
    print_page(&page);
}

/// Prints `page`, ending it with exactly one newline.
fn print_page(page: &str) {
    println!("{}", page.trim_end_matches('\n'));
}

/// `page` followed by `line` as a paragraph of its own.
fn with_line(page: &str, line: &str) -> String {
    if page.trim().is_empty() {
        line.to_string()
    } else {
        format!("{}\n\n{line}", page.trim_end_matches('\n'))
    }
}

fn minutes(age: Duration) -> String {
    match age.as_secs() / 60 {
        0 => "less than a minute".into(),
        1 => "1 minute".into(),
        n => format!("{n} minutes"),
    }
}

fn names(missing: &[Missing]) -> String {
    let names: Vec<&str> = missing.iter().map(|m| m.component.as_str()).collect();
    names.join(", ")
}

/// Runs cargo to build every binary and example of the workspace (nothing
/// to do, in a fraction of a second, when they are up to date). Its
/// messages go to the build's log, but for the "Finished" line that every
/// experiment would repeat.
fn build_the_books_programs(progress: &mut Progress) -> bool {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let child = Command::new(cargo)
        .args(["build", "--bins", "--examples"])
        .current_dir(project_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        progress.say("cannot run cargo");
        return false;
    };
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !line.trim_start().starts_with("Finished") {
                progress.raw(&line);
            }
        }
    }
    child.wait().is_ok_and(|status| status.success())
}

/// What a component provides to COMMAND, and the notes of wanted
/// components that are missing.
struct Provided {
    environment: Vec<(&'static str, OsString)>,
    notes: Vec<String>,
}

/// Every component of `needs` that this machine lacks.
fn missing_components(needs: &[Component]) -> Vec<Missing> {
    needs.iter().flat_map(|&c| missing_part(c)).collect()
}

/// What is missing of one component (nothing when it is there).
fn missing_part(component: Component) -> Vec<Missing> {
    let one = |check: Result<(), Missing>| check.err().into_iter().collect();
    match component {
        Component::Namespaces => one(capability::namespaces()),
        Component::Docker => one(capability::docker()),
        Component::Busybox => one(capability::busybox()),
        Component::Image => capability::project_image(),
        Component::Musl | Component::StaticFoster => one(capability::musl_target().map(drop)),
        Component::PeerInits => capability::peer_inits(),
        Component::Browser => one(capability::browser().map(drop)),
        Component::Podman => one(capability::podman()),
    }
}

/// Prepares what the needed and wanted components provide: the image
/// (built if needed) and foster's static build. `Err` when one that is
/// there cannot be made.
fn provide(options: &Options, progress: &mut Progress) -> Result<Provided, String> {
    let mut provided = Provided {
        environment: Vec::new(),
        notes: Vec::new(),
    };
    for &component in options.needs.iter().chain(&options.wants) {
        let missing = missing_part(component);
        if !missing.is_empty() {
            if component == Component::StaticFoster {
                progress.say("no musl target: the debug build of foster stands in");
                provided
                    .environment
                    .push(("ORPHANS_FOSTER", own_dir().join("foster").into()));
                let what = "Measuring foster's static build (the debug build was measured instead)";
                provided.notes.push(line_for(what, &missing));
            } else {
                provided.notes.push(line_for(&options.what, &missing));
            }
            continue;
        }
        match component {
            Component::Image => {
                progress.say("the project's image (built if needed)");
                let image = orphans::image::ensure_image(&project_dir())?;
                provided
                    .environment
                    .push(("ORPHANS_IMAGE", image.reference.into()));
            }
            Component::StaticFoster => {
                progress.say("foster's static build (built if needed)");
                let foster = orphans::image::build_static_foster()?;
                provided.environment.push(("ORPHANS_FOSTER", foster.into()));
            }
            _ => {}
        }
    }
    Ok(provided)
}

/// What COMMAND did.
struct Ran {
    stdout: String,
    /// Why it did not succeed, in one line; `None` if it did.
    failure: Option<String>,
}

/// Runs COMMAND with the book's programs first on `$PATH`, in a process
/// group of its own, so that a timeout (or its end) stops all it started.
/// Its stderr is copied to the build's log as it comes.
fn run_command(
    options: &Options,
    environment: &[(&'static str, OsString)],
    progress: &mut Progress,
) -> Ran {
    let path = book_path();
    let program = find_program(&options.command[0], &path);
    let mut command = Command::new(&program);
    command
        .args(&options.command[1..])
        .env("PATH", &path)
        .envs(environment.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = dying_with_us(&mut command).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            return Ran {
                stdout: String::new(),
                failure: Some(format!("cannot run {}: {e}", program.display())),
            }
        }
    };
    let stdout = read_in_background(child.stdout.take());
    let stderr = copy_in_background(child.stderr.take(), progress.clone_log());
    let ended = wait_at_most(&mut child, options.timeout);
    // Whatever it left running goes with it (ESRCH if nothing did).
    let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    let stdout = stdout.join().unwrap_or_default();
    let last_words = stderr.join().unwrap_or_default();
    let failure = match ended {
        Some(status) if status.success() => None,
        Some(status) => Some(format!(
            "`{}` ended with {status}{}",
            options.command[0].to_string_lossy(),
            last_words.map(|w| format!(": {w}")).unwrap_or_default()
        )),
        None => Some(format!(
            "it did not finish within {} s and was stopped",
            options.timeout.as_secs()
        )),
    };
    Ran {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        failure,
    }
}

/// Waits for `child` until `limit`; `None` (after killing it) if it was
/// still running.
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

fn read_in_background(
    pipe: Option<impl Read + Send + 'static>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Copies each line of `pipe` to `log`, returning the last non-empty one.
fn copy_in_background(
    pipe: Option<impl Read + Send + 'static>,
    mut log: File,
) -> std::thread::JoinHandle<Option<String>> {
    std::thread::spawn(move || {
        let mut last = None;
        let Some(pipe) = pipe else { return last };
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            if !line.trim().is_empty() {
                last = Some(line);
            }
        }
        last
    })
}

/// `$PATH` for COMMAND: the book's programs (cargo's output directory,
/// where this program is too), its examples, then the caller's `$PATH`.
fn book_path() -> OsString {
    let mut dirs = vec![own_dir(), own_dir().join("examples")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// `name` looked up in `path` as a shell would (a name with a `/` is used
/// as it is).
fn find_program(name: &OsString, path: &OsString) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let name = Path::new(name);
    if name.components().count() > 1 {
        return name.to_path_buf();
    }
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .unwrap_or_else(|| name.to_path_buf())
}

/// The remembered output of an experiment: one file per experiment (its
/// chapter, what and command line), holding the key of the run that made
/// it, the time, and the page.
///
/// The key is everything the output depends on that can change without
/// the command line changing: the book's programs (name, size and time of
/// each of cargo's binaries and examples), the machine (host name and
/// kernel), the directory, the variables the programs read, and for the
/// components the experiment uses, what they are (the Docker engine, the
/// busybox, the peer inits, whether the musl target is there).
struct Memory {
    file: PathBuf,
    key: String,
}

impl Memory {
    fn new(options: &Options) -> Memory {
        let mut slot = Fnv64::new();
        slot.write(options.chapter.as_bytes());
        slot.write(options.what.as_bytes());
        for word in &options.command {
            slot.write(word.as_encoded_bytes());
            slot.write(b"\0");
        }
        Memory {
            file: cache_dir()
                .join("experiments")
                .join(format!("{}.md", slot.hex())),
            key: run_key(options),
        }
    }

    /// The page and its age, if the remembered run has this key.
    fn recall(&self) -> Option<(String, Duration)> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        let (key, rest) = text.split_once('\n')?;
        let (time, page) = rest.split_once('\n')?;
        if key != self.key {
            return None;
        }
        let then = SystemTime::UNIX_EPOCH + Duration::from_secs(time.parse().ok()?);
        let age = SystemTime::now().duration_since(then).unwrap_or_default();
        Some((page.to_string(), age))
    }

    /// Remembers `page` with the notes that will follow it (they depend
    /// only on what the key holds).
    fn store(&self, page: &str, notes: &[String]) {
        let mut page = page.to_string();
        for note in notes {
            page = with_line(&page, note);
        }
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |age| age.as_secs());
        let _ = write_atomically(&self.file, &format!("{}\n{now}\n{page}", self.key));
    }
}

/// The key of a run (see [`Memory`]), as a hash.
fn run_key(options: &Options) -> String {
    let mut key = Fnv64::new();
    let mut add = |text: &str| {
        key.write(text.as_bytes());
        key.write(b"\0");
    };
    add("experiment 1");
    for word in std::env::args_os().skip(1) {
        add(&word.to_string_lossy());
    }
    add(&std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy());
    for file in ["/proc/sys/kernel/hostname", "/proc/sys/kernel/osrelease"] {
        add(&std::fs::read_to_string(file).unwrap_or_default());
    }
    for variable in [
        "PATH",
        "ORPHANS_IMAGE_NAME",
        "ORPHANS_BUSYBOX",
        "DOCKER_HOST",
    ] {
        add(&std::env::var(variable).unwrap_or_default());
    }
    for program in book_programs() {
        add(&format!("{} {}", program.display(), file_stamp(&program)));
    }
    for component in options.needs.iter().chain(&options.wants) {
        add(&component_stamp(*component));
    }
    key.hex()
}

/// What a component is here, as far as an output depends on it.
fn component_stamp(component: Component) -> String {
    match component {
        Component::Docker | Component::Image => {
            let engine = orphans::docker::engine()
                .map(|e| format!("{} {}", e.id, e.version))
                .unwrap_or_default();
            let busybox = file_stamp(&orphans::image::busybox_path());
            format!("engine {engine} busybox {busybox}")
        }
        Component::Busybox => file_stamp(&orphans::image::busybox_path()),
        Component::PeerInits => capability::PEER_INITS
            .iter()
            .map(|(_, path, _)| file_stamp(Path::new(path)))
            .collect::<Vec<_>>()
            .join(" "),
        Component::Musl | Component::StaticFoster => {
            format!("musl {}", capability::musl_target().is_ok())
        }
        Component::Namespaces | Component::Browser | Component::Podman => String::new(),
    }
}

/// cargo's binaries and examples of the book: the executable files in the
/// directory of this program and in its `examples/`.
fn book_programs() -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    for dir in [own_dir(), own_dir().join("examples")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        found.extend(entries.filter_map(|entry| {
            let path = entry.ok()?.path();
            let meta = path.metadata().ok()?;
            let executable = meta.is_file() && meta.permissions().mode() & 0o111 != 0;
            executable.then_some(path)
        }));
    }
    found.sort();
    found
}

/// Where progress goes, and the experiment's name in it.
struct Progress {
    log: File,
    label: String,
}

impl Progress {
    /// The log of the book's build: mdbook-cmdrun runs each line with its
    /// stderr captured (and thrown away unless the command fails), so the
    /// terminal is the stderr of the nearest `mdbook-cmdrun` above us
    /// (`/proc/PID/fd/2`, opened for appending); without one, our own
    /// stderr. Our stderr is pointed there too, for the programs that
    /// report on it (cargo, `docker build`).
    fn to_build_log() -> Progress {
        let log = build_log_of_cmdrun().unwrap_or_else(own_stderr);
        // SAFETY: dup2(2) on two descriptors we own; no Rust object owns
        // fd 2, so replacing it breaks no invariant.
        let _ = unsafe { libc::dup2(log.as_raw_fd(), 2) };
        Progress {
            log,
            label: "experiment".into(),
        }
    }

    fn say(&mut self, what: &str) {
        let _ = writeln!(self.log, "experiment: {}: {what}", self.label);
    }

    fn raw(&mut self, line: &str) {
        let _ = writeln!(self.log, "{line}");
    }

    fn clone_log(&self) -> File {
        self.log.try_clone().unwrap_or_else(|_| own_stderr())
    }
}

/// The stderr of the nearest `mdbook-cmdrun` among our ancestors.
fn build_log_of_cmdrun() -> Option<File> {
    let mut pid = parent_of(std::process::id() as i32)?;
    for _ in 0..8 {
        if comm(pid).as_deref() == Some("mdbook-cmdrun") {
            return OpenOptions::new()
                .append(true)
                .open(format!("/proc/{pid}/fd/2"))
                .ok();
        }
        pid = parent_of(pid).filter(|&parent| parent > 1)?;
    }
    None
}

fn own_stderr() -> File {
    use std::os::fd::AsFd;
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .unwrap_or_else(|_| fail("experiment", 1, &"cannot use stderr"))
}

/// `--check`: one line per component, and exit 1 if one of `require` is
/// missing.
fn check(require: &[Component]) {
    let mut required_but_missing = Vec::new();
    for (name, component, buys) in COMPONENTS {
        let missing = missing_part(component);
        if missing.is_empty() {
            println!("{name}: yes ({buys})");
            continue;
        }
        for part in &missing {
            println!("{name}: no ({buys}): {part}");
        }
        if require.contains(&component) {
            required_but_missing.push(name);
        }
    }
    if !required_but_missing.is_empty() {
        fail(
            "experiment",
            1,
            &format!("required but missing: {}", required_but_missing.join(", ")),
        );
    }
}

fn parse_components(list: &str) -> Result<Vec<Component>, String> {
    list.split(',')
        .filter(|name| !name.is_empty())
        .map(|name| {
            COMPONENTS
                .iter()
                .find(|(known, _, _)| *known == name)
                .map(|(_, component, _)| *component)
                .ok_or_else(|| format!("unknown component '{name}'"))
        })
        .collect()
}

fn parse(args: Vec<OsString>) -> Result<Request<Mode>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        chapter: String::new(),
        what: String::new(),
        needs: Vec::new(),
        wants: Vec::new(),
        text: false,
        timeout: Duration::from_secs(300),
        build: true,
        command: Vec::new(),
    };
    let mut check = false;
    let mut require = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("chapter") => options.chapter = cli::text(parser.value())?,
            Long("what") => options.what = cli::text(parser.value())?,
            Long("needs") => options.needs = parse_components(&cli::text(parser.value())?)?,
            Long("wants") => options.wants = parse_components(&cli::text(parser.value())?)?,
            Long("timeout") => options.timeout = bounds::seconds(parser.value(), 3600.0)?,
            Long("text") => options.text = true,
            Long("no-build") => options.build = false,
            Long("check") => check = true,
            Long("require") => require = parse_components(&cli::text(parser.value())?)?,
            Value(first) => {
                options.command = cli::command_from(first, &mut parser)?;
                break;
            }
            other => return cli::other(other),
        }
    }
    if check {
        return Ok(Request::Run(Mode::Check { require }));
    }
    options.command = cli::some_command(options.command)?;
    if options.chapter.is_empty() || options.what.is_empty() {
        return Err("--chapter and --what are required".into());
    }
    Ok(Request::Run(Mode::Run(options)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::parse_str;

    fn run_options(args: &[&str]) -> Options {
        match parse_str(parse, args) {
            Ok(Request::Run(Mode::Run(options))) => options,
            other => panic!("{args:?}: {:?}", other.err()),
        }
    }

    #[test]
    fn a_line_of_a_chapter_is_understood() {
        let options = run_options(&[
            "--chapter",
            "8",
            "--what",
            "The table",
            "--needs",
            "namespaces,image",
            "--wants",
            "peer-inits",
            "--text",
            "--timeout",
            "20",
            "--",
            "zombie-table",
            "-n",
            "5",
        ]);
        assert_eq!(options.needs, [Component::Namespaces, Component::Image]);
        assert_eq!(options.wants, [Component::PeerInits]);
        assert!(options.text && options.build);
        assert_eq!(options.timeout, Duration::from_secs(20));
        assert_eq!(options.command, ["zombie-table", "-n", "5"]);
    }

    #[test]
    fn the_commands_own_options_stay_its_own() {
        let options = run_options(&["--chapter", "1", "--what", "x", "probe", "--text"]);
        assert!(!options.text);
        assert_eq!(options.command, ["probe", "--text"]);
    }

    #[test]
    fn bad_lines_are_refused() {
        for args in [
            &["--chapter", "1", "--what", "x"][..],
            &["--what", "x", "true"],
            &[
                "--chapter",
                "1",
                "--what",
                "x",
                "--needs",
                "teleporter",
                "true",
            ],
            &["--chapter", "1", "--what", "x", "--timeout", "9999", "true"],
        ] {
            assert!(parse_str(parse, args).is_err(), "{args:?}");
        }
        assert!(matches!(
            parse_str(parse, &["--check", "--require", "docker"]),
            Ok(Request::Run(Mode::Check { .. }))
        ));
    }
}
