//! From what the doctor saw of a container to its verdict: pure functions,
//! so that every rule is a unit test.
//!
//! Two questions, the two problems of the book: will orphans pile up as
//! zombies (chapter 8), and will the engine's stop wait for its SIGKILL
//! (chapter 9)? Each answer says what it rests on: something seen now (a
//! zombie, a signal mask), something measured (the orphan test), or what
//! PID 1 is known to do.

use nix::sys::signal::Signal;

// The vocabulary of the facts: what the doctor's readers (`inits`,
// `signals`, `container`) find and the verdict reads.

/// The first real-time signal as programs name it. The kernel's first is
/// 32, but glibc and musl keep 32 and 33 for themselves, so `SIGRTMIN` is
/// 34 to a C program, to Docker (`STOPSIGNAL SIGRTMIN+3` is 37) and to
/// systemd (signal(7), "Real-time signals").
pub const RTMIN: u32 = 34;
/// SIGTERM's number: the stop signal when the image names none.
pub const SIGTERM: u32 = 15;
/// SIGKILL's number: the signal nothing can catch.
pub const SIGKILL: u32 = 9;

/// A signal's name as `kill -l` prints it: `SIGTERM`, `SIGRTMIN+3`.
pub fn signal_name(number: u32) -> String {
    if number >= RTMIN {
        return match number - RTMIN {
            0 => "SIGRTMIN".into(),
            n => format!("SIGRTMIN+{n}"),
        };
    }
    i32::try_from(number)
        .ok()
        .and_then(|n| Signal::try_from(n).ok())
        .map_or_else(|| format!("signal {number}"), |s| s.as_str().to_string())
}

/// What a process does with one signal: the library's reading of
/// `/proc/PID/status` and of the set it waits for in sigtimedwait(2)
/// ([chapter 17](../ch17-your-program-as-pid-1.md)).
pub use orphans::process::signals::Disposition;

/// Whether a process with this disposition gets to act on the signal when
/// it is PID 1: a caught, blocked or awaited signal is kept
/// (kernel/signal.c, sig_ignored).
pub fn is_heard(disposition: Disposition) -> bool {
    matches!(
        disposition,
        Disposition::Caught | Disposition::Blocked | Disposition::Awaited
    )
}

/// What a process with this disposition does with `signal`, in words:
/// `waits for SIGTERM in sigtimedwait(2)`.
pub fn action(disposition: Disposition, signal: &str) -> String {
    match disposition {
        Disposition::Caught => format!("catches {signal} with a handler"),
        Disposition::Blocked => {
            format!("blocks {signal}, to take it from a signalfd(2) or sigwait(3)")
        }
        Disposition::Awaited => format!("waits for {signal} in sigtimedwait(2)"),
        Disposition::Ignored => format!("ignores {signal}"),
        Disposition::Default => format!("leaves {signal} at its default action"),
    }
}

/// The disposition in a word or two, for a table or `--json`.
pub fn word(disposition: Disposition) -> &'static str {
    match disposition {
        Disposition::Caught => "caught",
        Disposition::Blocked => "blocked",
        Disposition::Awaited => "waited for",
        Disposition::Ignored => "ignored",
        Disposition::Default => "default",
    }
}

/// The inits the doctor knows: each reaps every child it gets and handles
/// the usual stop signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownInit {
    Tini,
    DumbInit,
    Catatonit,
    Foster,
    S6Svscan,
    Systemd,
}

impl KnownInit {
    /// The init's name, as its project spells it.
    pub fn name(self) -> &'static str {
        match self {
            KnownInit::Tini => "tini",
            KnownInit::DumbInit => "dumb-init",
            KnownInit::Catatonit => "catatonit",
            KnownInit::Foster => "foster",
            KnownInit::S6Svscan => "s6-svscan",
            KnownInit::Systemd => "systemd",
        }
    }
}

/// What an init's own command line says about how it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mode {
    /// In a few words: "forwards signals to its child".
    pub words: String,
    /// The command the init runs (empty for catatonit's pause mode, s6 and
    /// systemd, which run none).
    pub command: Vec<String>,
    /// Signals the init is told not to pass on: dumb-init's `-r N:0`.
    pub swallowed: Vec<u32>,
}

/// How a shell that is PID 1 was started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShellRun {
    /// `sh -c "COMMAND"`: the shell form of `CMD` and `ENTRYPOINT`.
    Command(String),
    /// `sh SCRIPT ARGS...`: an entrypoint script (the kernel makes a
    /// `#!/bin/sh` script's command line this).
    Script(String),
    /// A shell with neither (interactive, or reading its standard input).
    Bare,
}

/// What the doctor saw of one running container.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    /// `docker` or `podman`: the stop command is `ENGINE stop`.
    pub engine: String,
    /// PID 1 of the container's PID namespace.
    pub pid1: Process,
    /// The container's own first process, when it is not PID 1: the
    /// container joined another's PID namespace (a pod).
    pub first: Option<Process>,
    /// PID 1 when it is a known init, and what its command line says.
    pub init: Option<(KnownInit, Mode)>,
    /// PID 1 when it is a shell, and how it was started.
    pub shell: Option<ShellRun>,
    /// PID 1's children.
    pub children: Vec<Process>,
    /// The signal `ENGINE stop` sends, and whether the image or the
    /// container named it (else it is SIGTERM, the default).
    pub stop_signal: u32,
    pub stop_signal_named: bool,
    /// Seconds `ENGINE stop` waits before SIGKILL.
    pub stop_timeout: u32,
    /// What the process that gets the stop signal does with it.
    pub stop_disposition: Disposition,
    /// What PID 1 does with SIGCHLD (ignored: the kernel reaps for it).
    pub sigchld: Disposition,
    /// The zombies of the namespace, seen twice a moment apart.
    pub zombies: Vec<Zombie>,
    /// The orphan test, when it was asked for.
    pub orphan_test: Option<OrphanTest>,
}

/// A process, by its PID in the container and on the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    pub host_pid: i32,
    pub comm: String,
    pub args: Vec<String>,
}

/// A zombie, and the parent that has not reaped it (PIDs in the container).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zombie {
    pub pid: i32,
    pub comm: String,
    pub parent: i32,
    pub parent_comm: String,
}

/// What became of the orphan the doctor left in the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrphanTest {
    /// PID 1 reaped it within this many milliseconds of adopting it.
    Reaped { milliseconds: u64 },
    /// Still a zombie after the test's patience: PID `pid` in the container.
    Stayed { pid: i32, milliseconds: u64 },
}

/// The verdict, in the four words of the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fine,
    Zombies,
    StopWaits,
    Both,
}

/// One of the two questions, answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub problem: bool,
    /// One sentence: why.
    pub because: String,
}

/// The doctor's judgement on a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub zombies: Answer,
    pub stop: Answer,
    pub verdict: Verdict,
    /// The verdict in words.
    pub summary: String,
    /// The chapters that explain it.
    pub chapters: Vec<u32>,
    /// What to change; empty when fine.
    pub fix: String,
    /// What the doctor cannot decide but a reader should know.
    pub notes: Vec<String>,
}

/// The verdict on a container from what the doctor saw.
pub fn judge(facts: &Facts) -> Judgement {
    let zombies = zombie_answer(facts);
    let stop = stop_answer(facts);
    let verdict = match (zombies.problem, stop.problem) {
        (false, false) => Verdict::Fine,
        (true, false) => Verdict::Zombies,
        (false, true) => Verdict::StopWaits,
        (true, true) => Verdict::Both,
    };
    let mut chapters = Vec::new();
    if zombies.problem {
        chapters.push(8);
    }
    if stop.problem {
        chapters.push(9);
    }
    if verdict != Verdict::Fine && facts.shell.is_some() {
        chapters.push(13);
    }
    Judgement {
        summary: summary(verdict, facts),
        fix: fix(verdict, facts),
        notes: notes(facts),
        zombies,
        stop,
        verdict,
        chapters,
    }
}

/// `PID 1 (`sleep`)`: how the answers name a process.
fn named(process: &Process) -> String {
    format!("PID {} (`{}`)", process.pid, process.comm)
}

// ANCHOR: zombies
/// Will orphans pile up as zombies? Zombies seen now, then the orphan
/// test, then what PID 1 is known to do.
fn zombie_answer(facts: &Facts) -> Answer {
    let pid1 = named(&facts.pid1);
    let unreaped = facts.zombies.iter().filter(|z| z.parent == 1).count();
    let (problem, because) = if unreaped > 0 {
        let s = plural(unreaped);
        (
            true,
            format!("{unreaped} zombie{s} of {pid1} now: orphans it has not reaped"),
        )
    } else if let Some(test) = &facts.orphan_test {
        match test {
            OrphanTest::Reaped { milliseconds } => (
                false,
                format!("{pid1} reaped the doctor's test orphan within {milliseconds} ms"),
            ),
            OrphanTest::Stayed { pid, milliseconds } => (
                true,
                format!(
                    "the doctor's test orphan (PID {pid}) was still a zombie \
                    {milliseconds} ms after it exited: {pid1} does not reap"
                ),
            ),
        }
    } else if let Some((init, _)) = &facts.init {
        (
            false,
            format!("{pid1} is {}, which reaps every orphan", init.name()),
        )
    } else if facts.sigchld == Disposition::Ignored {
        (
            false,
            format!(
                "{pid1} ignores SIGCHLD, so the kernel reaps its children, \
                orphans included"
            ),
        )
    } else if facts.shell.is_some() {
        (
            false,
            format!(
                "{pid1} is a shell, which reaps any child while it waits for its command, \
                orphans included"
            ),
        )
    } else {
        (
            true,
            format!(
                "{pid1} is no init: an orphan it adopts stays a zombie unless it calls \
                wait(2) for any child, which few programs do (--orphan-test finds out)"
            ),
        )
    };
    Answer { problem, because }
}
// ANCHOR_END: zombies

// ANCHOR: stop
/// Will `ENGINE stop` wait for its SIGKILL? What the process that gets the
/// stop signal does with it, and whether it is PID 1.
fn stop_answer(facts: &Facts) -> Answer {
    let signal = signal_name(facts.stop_signal);
    let wait = format!(
        "`{} stop` sends SIGKILL after {} s",
        facts.engine, facts.stop_timeout
    );
    if let Some(first) = &facts.first {
        // Not PID 1 of its namespace: no protection, the default acts.
        let heard = facts.stop_disposition != Disposition::Ignored;
        let because = if heard {
            format!(
                "{} is not PID 1, so {signal} reaches it whatever it does with it",
                named(first)
            )
        } else {
            format!("{} ignores {signal}: {wait}", named(first))
        };
        return Answer {
            problem: !heard,
            because,
        };
    }
    let pid1 = named(&facts.pid1);
    if facts.stop_signal == SIGKILL {
        return Answer {
            problem: false,
            because: "the stop signal is SIGKILL: the container ends at once, without \
                a chance to clean up"
                .into(),
        };
    }
    let (problem, because) = match (facts.stop_disposition, &facts.init) {
        (Disposition::Default, _) => (
            true,
            format!(
                "{pid1} has no handler for {signal}, and the kernel drops such a signal \
                for PID 1: {wait}"
            ),
        ),
        (Disposition::Ignored, _) => (true, format!("{pid1} ignores {signal}: {wait}")),
        (_, Some((init, mode))) if mode.swallowed.contains(&facts.stop_signal) => (
            true,
            format!(
                "{pid1} is {} told not to pass {signal} on (`-r {}:0`): {wait}",
                init.name(),
                facts.stop_signal
            ),
        ),
        (_, Some((KnownInit::Systemd, _))) if facts.stop_signal == SIGTERM => (
            true,
            format!(
                "{pid1} is systemd, which takes SIGTERM as a request to execute itself \
                again, not to stop (systemd(1)): {wait}"
            ),
        ),
        (_, Some((init, mode))) => (
            false,
            format!(
                "{pid1} is {}, which handles {signal}: it {}",
                init.name(),
                mode.words
            ),
        ),
        (how, None) => (
            false,
            format!("{pid1} {}: it hears it", action(how, &signal)),
        ),
    };
    Answer { problem, because }
}
// ANCHOR_END: stop

/// The verdict in words.
fn summary(verdict: Verdict, facts: &Facts) -> String {
    let stop = format!("`{} stop` will wait for the SIGKILL", facts.engine);
    match verdict {
        Verdict::Fine => "fine".into(),
        Verdict::Zombies => "zombies will pile up".into(),
        Verdict::StopWaits => stop,
        Verdict::Both => format!("zombies will pile up, and {stop}"),
    }
}

/// What to change, for the verdict and what PID 1 is.
fn fix(verdict: Verdict, facts: &Facts) -> String {
    let init = "make an init PID 1: `--init` on the command line, or foster (or tini) as the image's ENTRYPOINT";
    let start = match &facts.shell {
        Some(ShellRun::Command(_)) => {
            "; and start the application in the exec form, `CMD [\"app\", \"arg\"]`"
        }
        Some(ShellRun::Script(_)) => "; and end the entrypoint script with `exec \"$@\"`",
        _ => "",
    };
    match (verdict, &facts.init) {
        (Verdict::Fine, _) => String::new(),
        (Verdict::StopWaits, Some((KnownInit::Systemd, _))) => {
            "STOPSIGNAL SIGRTMIN+3 in the image (or `--stop-signal SIGRTMIN+3`): systemd halts on it".into()
        }
        (Verdict::StopWaits, Some((init, _))) => format!(
            "let {} pass the stop signal on (no `-r {}:0`)",
            init.name(),
            facts.stop_signal
        ),
        (Verdict::StopWaits, None) if facts.shell.is_none() => format!(
            "{init}, which passes {} on; or handle it in `{}`",
            signal_name(facts.stop_signal),
            facts.pid1.comm
        ),
        _ => format!("{init}{start}"),
    }
}

/// What the doctor cannot decide from `/proc` but a reader should know.
fn notes(facts: &Facts) -> Vec<String> {
    let mut notes = Vec::new();
    let others: Vec<&Zombie> = facts.zombies.iter().filter(|z| z.parent != 1).collect();
    if let Some(zombie) = others.first() {
        notes.push(format!(
            "{} zombie{} of PID {} (`{}`), its own children: only it can reap them, an init cannot",
            others.len(),
            plural(others.len()),
            zombie.parent,
            zombie.parent_comm
        ));
    }
    let heard = is_heard(facts.stop_disposition);
    if facts.first.is_none() && facts.init.is_none() && heard && !facts.children.is_empty() {
        let child = &facts.children[0];
        notes.push(format!(
            "PID 1 handles {} itself; {} hears it only if PID 1 passes it on (chapter 9)",
            signal_name(facts.stop_signal),
            named(child)
        ));
    }
    notes
}

/// The `s` of a plural, for `count` things.
fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
