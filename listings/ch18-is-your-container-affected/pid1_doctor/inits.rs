//! Who PID 1 is: a known init (and in which mode), a shell, or some other
//! program. Pure functions of what `/proc` shows: the command line, the
//! command name, the executable's name and, where the name does not say
//! (`docker-init`, `podman-init`, `/sbin/init`), the executable's bytes.

pub use crate::verdict::{KnownInit, Mode, ShellRun};

/// Names that say which program runs, whatever its bytes: the command
/// name, or the last part of `argv[0]` or of the executable's path.
fn init_by_name(name: &str) -> Option<KnownInit> {
    match name {
        "dumb-init" => Some(KnownInit::DumbInit),
        "catatonit" => Some(KnownInit::Catatonit),
        "foster" => Some(KnownInit::Foster),
        "s6-svscan" => Some(KnownInit::S6Svscan),
        "systemd" => Some(KnownInit::Systemd),
        // Debian's tini-static, and release names such as tini-amd64.
        _ if name == "tini" || name.starts_with("tini-") => Some(KnownInit::Tini),
        _ => None,
    }
}

/// Byte strings found in each init's executable and in no other of the
/// list, in the order they are tried: catatonit and foster answer
/// `--version` in tini's form, so "tini version" comes last.
const SIGNATURES: [(&[u8], KnownInit); 4] = [
    (b"CATATONIT_", KnownInit::Catatonit),
    (b"foster version ", KnownInit::Foster),
    (b"[dumb-init]", KnownInit::DumbInit),
    (b"tini version", KnownInit::Tini),
];

/// Whether a name is one that engines and distributions give to whichever
/// init they install, so that only the executable tells which it is.
pub fn is_generic_name(name: &str) -> bool {
    matches!(name, "docker-init" | "podman-init" | "init")
}

/// The init that `names` (command name, `argv[0]`'s and the executable's
/// last parts) or, for a generic name, `executable` (its bytes, if they
/// could be read) make PID 1. A generic name whose bytes are unknown falls
/// back on the engine's default: Docker installs tini as `docker-init`,
/// Podman catatonit as `/run/podman-init`.
pub fn identify(names: &[&str], executable: Option<&[u8]>) -> Option<KnownInit> {
    if let Some(init) = names.iter().find_map(|name| init_by_name(name)) {
        return Some(init);
    }
    let generic = names.iter().find(|name| is_generic_name(name))?;
    if let Some(bytes) = executable {
        if let Some(init) = signature(bytes) {
            return Some(init);
        }
    }
    match *generic {
        "docker-init" => Some(KnownInit::Tini),
        "podman-init" => Some(KnownInit::Catatonit),
        _ => None,
    }
}

/// The first init whose signature `bytes` contain.
fn signature(bytes: &[u8]) -> Option<KnownInit> {
    SIGNATURES
        .iter()
        .find(|(mark, _)| bytes.windows(mark.len()).any(|window| window == *mark))
        .map(|(_, init)| *init)
}

/// What the arguments after the program (`args[1..]`) say about `init`.
pub fn mode(init: KnownInit, args: &[String]) -> Mode {
    let rest = args.get(1..).unwrap_or_default();
    match init {
        KnownInit::Tini | KnownInit::Foster => tini_like(rest, init == KnownInit::Foster),
        KnownInit::DumbInit => dumb_init(rest),
        KnownInit::Catatonit => catatonit(rest),
        KnownInit::S6Svscan => Mode {
            words: "supervises the services of its scan directory".into(),
            command: Vec::new(),
            swallowed: Vec::new(),
        },
        KnownInit::Systemd => Mode {
            words: "the system manager: starts the image's units".into(),
            command: Vec::new(),
            swallowed: Vec::new(),
        },
    }
}

/// tini's options (foster takes the same, and `--grace D`, `-r SIG:NEW`).
fn tini_like(rest: &[String], foster: bool) -> Mode {
    let mut group = false;
    let mut words = rest.iter();
    let mut command = Vec::new();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--" => {
                command = words.cloned().collect();
                break;
            }
            "-p" | "-e" | "--grace" | "-r" => {
                words.next();
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                group |= !flag.starts_with("--") && flag.contains('g');
            }
            _ => {
                command = std::iter::once(word).chain(words).cloned().collect();
                break;
            }
        }
    }
    let target = if group {
        "its child's process group"
    } else {
        "its child"
    };
    let words = if foster {
        format!("forwards signals to {target}, and gives what is left a grace time when the child exits")
    } else {
        format!("forwards signals to {target}")
    };
    Mode {
        words,
        command,
        swallowed: Vec::new(),
    }
}

/// dumb-init's options: `-c` (single child), `-r S:R` (rewrite; R = 0
/// means the signal is not passed on).
fn dumb_init(rest: &[String]) -> Mode {
    let mut single = false;
    let mut swallowed = Vec::new();
    let mut words = rest.iter();
    let mut command = Vec::new();
    while let Some(word) = words.next() {
        let rewrite = match word.as_str() {
            "--" => {
                command = words.cloned().collect();
                break;
            }
            "-c" | "--single-child" => {
                single = true;
                continue;
            }
            "-r" | "--rewrite" => words.next().cloned(),
            long if long.starts_with("--rewrite=") => Some(long["--rewrite=".len()..].to_string()),
            flag if flag.starts_with('-') && flag.len() > 1 => continue,
            _ => {
                command = std::iter::once(word).chain(words).cloned().collect();
                break;
            }
        };
        if let Some((from, "0")) = rewrite.as_deref().and_then(|r| r.split_once(':')) {
            swallowed.extend(from.parse::<u32>().ok());
        }
    }
    let words = if single {
        "single-child mode: forwards signals to its child only"
    } else {
        "forwards signals to every process of its child's session"
    };
    Mode {
        words: words.into(),
        command,
        swallowed,
    }
}

/// catatonit's options: `-P` (pause: no command), `-g` (process group).
fn catatonit(rest: &[String]) -> Mode {
    let flags: Vec<&String> = rest.iter().take_while(|w| w.starts_with('-')).collect();
    let has = |letter: char| {
        flags
            .iter()
            .any(|f| !f.starts_with("--") && f.contains(letter))
    };
    let command: Vec<String> = rest
        .iter()
        .skip(flags.len())
        .skip_while(|w| *w == "--")
        .cloned()
        .collect();
    let words = if has('P') {
        "pause mode: runs no command, only reaps"
    } else if has('g') {
        "forwards signals to its child's process group"
    } else {
        "forwards signals to its child"
    };
    Mode {
        words: words.into(),
        command,
        swallowed: Vec::new(),
    }
}

/// Shells that images use as `/bin/sh` or run scripts with.
const SHELLS: [&str; 8] = ["sh", "dash", "bash", "ash", "busybox", "zsh", "ksh", "mksh"];

/// Whether the command line `args` (with command name `comm`) is a shell,
/// and how it runs. A shell's options (`-e`, `-x`) may come first.
pub fn shell_run(comm: &str, args: &[String]) -> Option<ShellRun> {
    let program = args.first().map(|a| last_part(a)).unwrap_or(comm);
    if !SHELLS.contains(&program) && !SHELLS.contains(&comm) {
        return None;
    }
    let mut rest = args.iter().skip(1);
    // busybox run by its own name takes the applet first: `busybox sh -c`.
    if program == "busybox" && args.get(1).map(String::as_str) == Some("sh") {
        rest.next();
    }
    while let Some(word) = rest.next() {
        if word.starts_with('-') && !word.starts_with("--") && word.contains('c') {
            return Some(ShellRun::Command(rest.next().cloned().unwrap_or_default()));
        }
        if !word.starts_with('-') {
            return Some(ShellRun::Script(word.clone()));
        }
    }
    Some(ShellRun::Bare)
}

/// The last part of a path: `/usr/bin/tini` → `tini`.
pub fn last_part(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn inits_by_name_and_by_bytes() {
        assert_eq!(identify(&["tini"], None), Some(KnownInit::Tini));
        assert_eq!(identify(&["tini-static"], None), Some(KnownInit::Tini));
        assert_eq!(identify(&["sleep", "sleep"], None), None);
        assert_eq!(identify(&["init"], None), None);
        // Docker's --init is tini unless the daemon names another init.
        assert_eq!(identify(&["docker-init"], None), Some(KnownInit::Tini));
        let foster = b"\x7fELF...foster version ... - git.... tini version".as_slice();
        assert_eq!(
            identify(&["docker-init"], Some(foster)),
            Some(KnownInit::Foster)
        );
        let catatonit = b"CATATONIT_LOG tini version %s_%s".as_slice();
        assert_eq!(
            identify(&["podman-init"], Some(catatonit)),
            Some(KnownInit::Catatonit)
        );
        assert_eq!(
            identify(&["podman-init"], Some(b"")),
            Some(KnownInit::Catatonit)
        );
        assert_eq!(
            identify(&["init", "init", "systemd"], None),
            Some(KnownInit::Systemd)
        );
    }

    #[test]
    fn modes_from_the_command_line() {
        let tini = mode(
            KnownInit::Tini,
            &words("/sbin/docker-init -- app --port 80"),
        );
        assert_eq!(tini.command, words("app --port 80"));
        assert_eq!(tini.words, "forwards signals to its child");
        let group = mode(KnownInit::Tini, &words("tini -s -g -p SIGKILL app"));
        assert_eq!(group.command, words("app"));
        assert!(group.words.contains("process group"));
        let dumb = mode(
            KnownInit::DumbInit,
            &words("dumb-init -r 15:0 --rewrite=2:3 app"),
        );
        assert_eq!(dumb.swallowed, vec![15]);
        assert_eq!(dumb.command, words("app"));
        assert!(dumb.words.contains("session"));
        let single = mode(KnownInit::DumbInit, &words("dumb-init -c -- app"));
        assert!(single.words.contains("single-child"));
        let pause = mode(KnownInit::Catatonit, &words("/catatonit -P"));
        assert!(pause.words.contains("pause") && pause.command.is_empty());
        let foster = mode(KnownInit::Foster, &words("foster --grace 5s -- app -g"));
        assert_eq!(foster.command, words("app -g"));
        assert!(!foster.words.contains("group"), "-g is app's");
    }

    #[test]
    fn shells_and_how_they_run() {
        assert_eq!(
            shell_run("sh", &words("/bin/sh -c app")),
            Some(ShellRun::Command("app".into()))
        );
        assert_eq!(
            shell_run("bash", &words("bash -ec app")),
            Some(ShellRun::Command("app".into()))
        );
        assert_eq!(
            shell_run("sh", &words("/bin/sh -e /entrypoint.sh app")),
            Some(ShellRun::Script("/entrypoint.sh".into()))
        );
        assert_eq!(
            shell_run("busybox", &words("busybox sh -c app")),
            Some(ShellRun::Command("app".into()))
        );
        assert_eq!(shell_run("sh", &words("/bin/sh")), Some(ShellRun::Bare));
        assert_eq!(shell_run("app", &words("/bin/app --port 80")), None);
    }
}
