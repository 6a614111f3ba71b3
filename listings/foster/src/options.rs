//! foster's command line and environment: tini's flags and `TINI_*`
//! variables with tini's meaning, so foster can replace it anywhere
//! (including as Docker's `--init`, which runs `docker-init -- CMD...`),
//! plus foster's own `--grace`, `--stop-delay`, `-u` and `-r`, and
//! `FOSTER_*` variables.

use std::ffi::OsString;
use std::time::Duration;

use foster::log::{TRACE, WARNINGS};
use foster::signals::parse_signal;
use foster::user::UserSpec;
use nix::sys::signal::Signal;

/// Exit status for a command line that cannot be understood (the convention
/// of getopt-based tools; tini exits 1 here).
pub const USAGE_ERROR: i32 = 2;

pub const USAGE: &str = "\
usage: foster [OPTIONS] [--] CMD [ARGS...]

Runs CMD as its child: forwards signals to it, reaps every process that
ends up as foster's child (orphans included), and when CMD exits, asks the
processes still alive to stop (SIGTERM), waits up to the grace time,
kills the rest and exits with CMD's status (128+N if signal N killed it).

  -g             send signals to CMD's process group, not just CMD
  -s             be a child subreaper when not PID 1; fail if that fails
                 (without -s foster tries anyway and warns if it cannot)
  -e CODE        exit 0 when CMD exits with CODE (0-255; repeatable)
  -p SIGNAL      signal to get when foster's parent dies (e.g. SIGKILL)
  -r SIG:NEW     forward SIG as NEW (e.g. -r TERM:QUIT); NEW 0 drops SIG
  -w             warn when reaping a process that is not CMD
  -v             say more; -vv shows every adoption, reap and signal
  --grace DUR    time left to processes after CMD exits: 2s (default),
                 500ms, 1.5s, 1m, 1h, 0 (exit at once, as tini does)
  --stop-delay DUR
                 hold the first SIGTERM for DUR before passing it to CMD
                 (0, the default: at once); other signals, and a second
                 SIGTERM, pass at once
  -u, --user USER[:GROUP]
                 run CMD as USER (a name in /etc/passwd, or a number),
                 with USER's groups in /etc/group and its HOME; with
                 GROUP (a name or a number), in that group alone
  -l             show the license
  -V, --version  show the version
  -h, --help     show this help

Environment: FOSTER_SUBREAPER or TINI_SUBREAPER (like -s),
FOSTER_KILL_PROCESS_GROUP or TINI_KILL_PROCESS_GROUP (like -g),
FOSTER_VERBOSITY or TINI_VERBOSITY (0 quiet, 1 default, 2 = -v, 3 = -vv),
FOSTER_GRACE (like --grace), FOSTER_STOP_DELAY (like --stop-delay).
Flags win over the environment.

Exit status: CMD's status, or 128+N when signal N killed it; 0 instead of
a status given with -e; 126 when CMD cannot be run (or not as -u says),
127 when it is not found; 2 for a command line foster cannot read (tini
exits 1); 1 when foster cannot set itself up (its signals, -s, -p).

Grace: when CMD has exited and other processes are left (as PID 1, every
process in the PID namespace; elsewhere, foster's descendants), foster
sends them SIGTERM and reaps them as they exit, for up to the grace time; a
signal foster gets meanwhile goes to all of them. Then it sends SIGKILL,
every 100 ms for up to 5 s, and exits. DUR is a number with ms, s, m or h,
or a bare number of seconds (10 means 10s; 1.5s works too); 0 leaves them
at once, and when foster is PID 1 the kernel then kills them.

Stop delay: whoever stops the container may still send it work for a
moment (Kubernetes takes a pod out of its Service's endpoints while it
sends SIGTERM); CMD serves it during the delay. The delay counts against
the stopper's timeout (docker stop -t, terminationGracePeriodSeconds),
not against the grace, which starts when CMD exits.

User: foster reads /etc/passwd and /etc/group itself (a static program
cannot use NSS); a number that /etc/passwd does not list runs in group 0
with HOME=/, as Docker's --user does. foster itself keeps its user, to
signal and reap every process; changing to another needs root.

Limits: --grace, --stop-delay and their variables at most 24h; a user or
group number is 0 to 4294967294; CODE is 0 to 255; a signal
is a name, with or without SIG, in any case (TERM, sigusr1, RTMIN+3), or a
number from 1 to SIGRTMAX (64 on Linux); -p takes no real-time signal; a
verbosity above 3 counts as 3. Anything else is a usage error.";

// ANCHOR: version
/// `foster version 0.1.0 - git.1a2b3c4`: tini's form, which Docker parses
/// when foster is its `--init` (`docker info` shows what follows ` - git.`).
pub fn version() -> String {
    format!(
        "foster version {} - git.{COMMIT}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The commit foster was built from, which build.rs finds; `unknown`
/// outside a git checkout (and where build.rs did not run).
pub const COMMIT: &str = match option_env!("FOSTER_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};
// ANCHOR_END: version

pub const LICENSE: &str =
    "foster is licensed under the MIT license or the Apache License 2.0, at your option.";

// ANCHOR: bounded
/// The grace time, from 0 to [`Grace::MAX`]: a duration that cannot make
/// a deadline overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grace(Duration);

impl Grace {
    /// A day: longer is surely a mistake, and `Instant + MAX` is safe.
    pub const MAX: Duration = Duration::from_secs(24 * 60 * 60);
    /// The default: see chapter 10, "The default grace against docker stop".
    pub const DEFAULT: Grace = Grace(Duration::from_secs(2));

    pub fn new(duration: Duration) -> Option<Grace> {
        (duration <= Grace::MAX).then_some(Grace(duration))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

/// `--stop-delay`, from 0 (the default: no delay) to [`Grace::MAX`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StopDelay(Duration);

impl StopDelay {
    pub fn new(duration: Duration) -> Option<StopDelay> {
        (duration <= Grace::MAX).then_some(StopDelay(duration))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

/// How much foster says: [`QUIET`](foster::log::QUIET) (0) to
/// [`TRACE`] (3). More `-v`s or a larger number mean 3, as in tini.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verbosity(u8);

impl Verbosity {
    pub fn new(level: u8) -> Verbosity {
        Verbosity(level.min(TRACE))
    }

    pub fn louder(self) -> Verbosity {
        Verbosity::new(self.0.saturating_add(1))
    }

    pub fn level(self) -> u8 {
        self.0
    }
}
// ANCHOR_END: bounded

/// Everything foster was asked to do.
#[derive(Debug, PartialEq)]
pub struct Options {
    pub command: Vec<OsString>,
    /// `-s`: failing to become a subreaper is fatal.
    pub subreaper_required: bool,
    /// `-g`: forward to CMD's process group.
    pub process_group: bool,
    pub verbosity: Verbosity,
    /// `-w`: warn about every reaped process that is not CMD.
    pub warn_on_reap: bool,
    pub parent_death_signal: Option<Signal>,
    /// `-e`: exit statuses of CMD that foster reports as 0.
    pub success_codes: Vec<u8>,
    /// `-r`: (signal, replacement) pairs; a replacement of 0 drops it.
    pub rewrites: Vec<(i32, i32)>,
    pub grace: Grace,
    /// `--stop-delay`: how long the first SIGTERM waits.
    pub stop_delay: StopDelay,
    /// `-u`: whom the command runs as.
    pub user: Option<UserSpec>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Request {
    Run(Options),
    Help,
    Version,
    License,
}

/// Reads `args` (without the program name) and the environment through
/// `env`. An `Err` is a message for the user; the caller shows the usage.
/// Never panics, whatever it is given (tests/parse_fuzz.rs).
pub fn parse(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Request, String> {
    use lexopt::prelude::*;
    let mut options = from_environment(env)?;
    let mut parser = lexopt::Parser::from_args(args);
    let error = |e: lexopt::Error| e.to_string();
    while let Some(arg) = parser.next().map_err(error)? {
        match arg {
            Short('h') | Long("help") => return Ok(Request::Help),
            Short('V') | Long("version") => return Ok(Request::Version),
            Short('l') => return Ok(Request::License),
            Short('s') => options.subreaper_required = true,
            Short('g') => options.process_group = true,
            Short('w') => options.warn_on_reap = true,
            Short('v') => options.verbosity = options.verbosity.louder(),
            Short('e') => options
                .success_codes
                .push(exit_code(&text(parser.value())?)?),
            Short('p') => {
                options.parent_death_signal = Some(standard_signal(&text(parser.value())?)?)
            }
            Short('r') => options.rewrites.push(rewrite(&text(parser.value())?)?),
            Long("grace") => options.grace = grace(&text(parser.value())?)?,
            Long("stop-delay") => options.stop_delay = stop_delay(&text(parser.value())?)?,
            Short('u') | Long("user") => {
                options.user = Some(UserSpec::parse(&text(parser.value())?)?)
            }
            Value(first) => {
                options.command.push(first);
                options.command.extend(parser.raw_args().map_err(error)?);
                break;
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    if options.command.is_empty() {
        return Err("no command given".into());
    }
    Ok(Request::Run(options))
}

/// The defaults, changed by the `FOSTER_*` and `TINI_*` variables.
fn from_environment(env: &dyn Fn(&str) -> Option<OsString>) -> Result<Options, String> {
    // tini's rule for its switches: set at all means on. FOSTER_* also
    // accept 0 (or empty) for off.
    let switch = |foster: &str, tini: &str| {
        env(tini).is_some() || env(foster).is_some_and(|v| !v.is_empty() && v != "0")
    };
    let verbosity = match env("FOSTER_VERBOSITY").or_else(|| env("TINI_VERBOSITY")) {
        Some(level) => os_text(level)?
            .trim()
            .parse::<u8>()
            .map(Verbosity::new)
            .map_err(|_| "FOSTER_VERBOSITY/TINI_VERBOSITY takes a number from 0 to 3")?,
        None => Verbosity::new(WARNINGS),
    };
    let grace = match env("FOSTER_GRACE") {
        Some(value) => grace(&os_text(value)?).map_err(|e| format!("FOSTER_GRACE: {e}"))?,
        None => Grace::DEFAULT,
    };
    let stop_delay = match env("FOSTER_STOP_DELAY") {
        Some(value) => {
            stop_delay(&os_text(value)?).map_err(|e| format!("FOSTER_STOP_DELAY: {e}"))?
        }
        None => StopDelay::default(),
    };
    Ok(Options {
        command: Vec::new(),
        subreaper_required: switch("FOSTER_SUBREAPER", "TINI_SUBREAPER"),
        process_group: switch("FOSTER_KILL_PROCESS_GROUP", "TINI_KILL_PROCESS_GROUP"),
        verbosity,
        warn_on_reap: false,
        parent_death_signal: None,
        success_codes: Vec::new(),
        rewrites: Vec::new(),
        grace,
        stop_delay,
        user: None,
    })
}

fn text(value: Result<OsString, lexopt::Error>) -> Result<String, String> {
    os_text(value.map_err(|e| e.to_string())?)
}

fn os_text(value: OsString) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("not valid UTF-8: {}", v.to_string_lossy()))
}

/// `-e CODE`: an exit status, 0 to 255.
fn exit_code(text: &str) -> Result<u8, String> {
    text.parse::<u8>()
        .map_err(|_| format!("-e takes an exit status from 0 to 255, not '{text}'"))
}

/// `-p SIGNAL`: prctl(2) takes any signal, but foster names only the
/// standard ones.
fn standard_signal(text: &str) -> Result<Signal, String> {
    parse_signal(text)
        .and_then(|number| Signal::try_from(number).ok())
        .ok_or_else(|| format!("unknown signal '{text}'"))
}

/// `-r SIG:NEW`, e.g. `TERM:QUIT`, `SIGUSR1:0`, `15:3`.
fn rewrite(text: &str) -> Result<(i32, i32), String> {
    let bad = || format!("-r takes SIGNAL:SIGNAL (or SIGNAL:0 to drop it), not '{text}'");
    let (from, to) = text.split_once(':').ok_or_else(bad)?;
    let from = parse_signal(from).ok_or_else(bad)?;
    let to = if to == "0" {
        0
    } else {
        parse_signal(to).ok_or_else(bad)?
    };
    Ok((from, to))
}

/// `--grace` and `FOSTER_GRACE`: a [`duration`] of at most [`Grace::MAX`].
fn grace(text: &str) -> Result<Grace, String> {
    Grace::new(duration(text)?).ok_or_else(|| format!("a grace of '{text}' is over 24h"))
}

/// `--stop-delay` and `FOSTER_STOP_DELAY`: a [`duration`] of at most a day.
fn stop_delay(text: &str) -> Result<StopDelay, String> {
    StopDelay::new(duration(text)?).ok_or_else(|| format!("a stop delay of '{text}' is over 24h"))
}

/// `5s`, `500ms`, `2m`, `1h`, `1.5s`, or a bare number of seconds such as
/// `0`. Not negative, not infinite, not NaN.
pub fn duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("'{text}' is not a duration such as 5s, 500ms or 0");
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (text, 1.0)
    };
    // f64's parser also takes "inf" and "NaN": try_from_secs_f64 refuses
    // those, negative numbers, and anything beyond u64 seconds.
    let value: f64 = number.parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], vars: &[(&str, &str)]) -> Result<Request, String> {
        let args = args.iter().map(OsString::from).collect();
        let env = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        };
        parse(args, &env)
    }

    fn options(args: &[&str], vars: &[(&str, &str)]) -> Options {
        match parse_with(args, vars) {
            Ok(Request::Run(options)) => options,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn tini_flags_mean_what_they_mean_to_tini() {
        let o = options(
            &[
                "-s", "-g", "-w", "-vv", "-e", "3", "-e4", "-p", "SIGKILL", "--", "sh", "-c", "x",
            ],
            &[],
        );
        assert!(o.subreaper_required && o.process_group && o.warn_on_reap);
        assert_eq!(o.verbosity.level(), 3);
        assert_eq!(o.success_codes, [3, 4]);
        assert_eq!(o.parent_death_signal, Some(Signal::SIGKILL));
        assert_eq!(o.command, ["sh", "-c", "x"]);
    }

    #[test]
    fn options_after_the_command_belong_to_the_command() {
        assert_eq!(options(&["ls", "-g"], &[]).command, ["ls", "-g"]);
        assert!(!options(&["ls", "-g"], &[]).process_group);
    }

    #[test]
    fn rewrites_and_grace() {
        let o = options(
            &["-r", "TERM:QUIT", "-r", "usr1:0", "--grace", "500ms", "x"],
            &[],
        );
        assert_eq!(o.rewrites, [(15, 3), (10, 0)]);
        assert_eq!(o.grace.duration(), Duration::from_millis(500));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(duration("-1s").is_err() && duration("soon").is_err());
        for bad in ["inf", "NaN", "1e19", "1e400s", "25h"] {
            assert!(grace(bad).is_err(), "{bad}");
        }
        assert_eq!(grace("24h").map(Grace::duration), Ok(Grace::MAX));
    }

    #[test]
    fn stop_delay_and_user() {
        let o = options(&["--stop-delay", "5s", "-u", "app:staff", "x"], &[]);
        assert_eq!(o.stop_delay.duration(), Duration::from_secs(5));
        assert_eq!(o.user, UserSpec::parse("app:staff").ok());
        assert_eq!(
            options(&["--user", "1000", "x"], &[]).user,
            UserSpec::parse("1000").ok()
        );
        assert_eq!(options(&["x"], &[]).stop_delay.duration(), Duration::ZERO);
        assert_eq!(options(&["x"], &[]).user, None);
        let from_env = options(&["x"], &[("FOSTER_STOP_DELAY", "1.5s")]);
        assert_eq!(from_env.stop_delay.duration(), Duration::from_millis(1500));
        let flag_wins = options(&["--stop-delay", "0", "x"], &[("FOSTER_STOP_DELAY", "9s")]);
        assert_eq!(flag_wins.stop_delay.duration(), Duration::ZERO);
        for bad in [
            &["--stop-delay", "25h", "x"][..],
            &["--stop-delay"],
            &["-u", "", "x"],
            &["-u", "a:b:c", "x"],
        ] {
            assert!(parse_with(bad, &[]).is_err(), "{bad:?}");
        }
        assert!(parse_with(&["x"], &[("FOSTER_STOP_DELAY", "soon")]).is_err());
    }

    #[test]
    fn environment_like_tini_and_foster() {
        let o = options(
            &["x"],
            &[
                ("TINI_SUBREAPER", ""),
                ("TINI_KILL_PROCESS_GROUP", "1"),
                ("TINI_VERBOSITY", "2"),
            ],
        );
        assert!(o.subreaper_required && o.process_group);
        assert_eq!(o.verbosity.level(), 2);
        let o = options(&["x"], &[("FOSTER_SUBREAPER", "0"), ("FOSTER_GRACE", "0")]);
        assert!(!o.subreaper_required);
        assert_eq!(o.grace.duration(), Duration::ZERO);
        assert_eq!(
            options(&["--grace", "3s", "x"], &[("FOSTER_GRACE", "0")]).grace,
            Grace(Duration::from_secs(3))
        );
        assert_eq!(options(&["x"], &[]).grace, Grace::DEFAULT);
        // tini's rule: more is as much as there is.
        let loud = options(&["-vvvvvvvv", "x"], &[("TINI_VERBOSITY", "200")]);
        assert_eq!(loud.verbosity.level(), 3);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for args in [
            &[][..],
            &["-e", "256", "x"],
            &["-e"],
            &["-p", "SIGNOPE", "x"],
            &["-r", "TERM", "x"],
            &["--grace", "x"],
            &["--grace", "1e19", "x"],
            &["-e", "-1", "x"],
            &["-r", "RTMIN+2147483647:TERM", "x"],
            &["-z", "x"],
        ] {
            assert!(parse_with(args, &[]).is_err(), "{args:?}");
        }
        assert!(parse_with(&["x"], &[("FOSTER_VERBOSITY", "lots")]).is_err());
        assert_eq!(parse_with(&["-h"], &[]), Ok(Request::Help));
    }
}
