//! How chapter 13's images start `app`: the patterns of entrypoint
//! scripts, the shells that run them, and one run of a pattern as PID 1 of
//! a PID namespace or of a container, stopped the way `docker stop` does.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use orphans::cache::hash_hex;
use orphans::namespace::stop::{docker_stop, stop, Outcome, Plan};
use orphans::process::spawn::sibling;

// ANCHOR: scripts
/// The entrypoint scripts of the table. Each is run as `SHELL SCRIPT app
/// ARGS...`, which is what the kernel makes of `ENTRYPOINT
/// ["/entrypoint.sh"]` with `CMD ["app", ...]` and a `#!/bin/sh` line.
pub const WITHOUT_EXEC: &str = "# set things up, then run the command\n\"$@\"\n";
pub const WITH_EXEC: &str = "# set things up, then become the command\nexec \"$@\"\n";
pub const TRAP_EXIT: &str = "trap 'exit 143' TERM\n\"$@\"\n";
pub const TRAP_EXIT_WAIT: &str = "trap 'exit 143' TERM\n\"$@\" &\nwait\n";
/// The trap passes SIGTERM on; the second `wait` waits for the command to
/// finish, since the first one returns as soon as the trap has run.
pub const TRAP_FORWARD: &str =
    "\"$@\" &\nchild=$!\ntrap 'kill -TERM \"$child\"' TERM\nwait \"$child\"\nwait \"$child\"\n";
// ANCHOR_END: scripts

/// How an image starts the application.
#[derive(Clone, Copy)]
pub enum Start {
    /// `CMD ["app", ...]`: the runtime executes the application itself.
    ExecForm,
    /// `CMD app ...`: Docker runs `/bin/sh -c "app ..."`.
    ShellForm,
    /// An entrypoint script that ends by starting its arguments.
    Script(&'static str),
}

pub struct Pattern {
    pub label: &'static str,
    pub start: Start,
}

pub const PATTERNS: [Pattern; 7] = [
    Pattern {
        label: "exec form: `CMD [\"app\"]`",
        start: Start::ExecForm,
    },
    Pattern {
        label: "shell form: `CMD app`",
        start: Start::ShellForm,
    },
    Pattern {
        label: "script ending in `\"$@\"`",
        start: Start::Script(WITHOUT_EXEC),
    },
    Pattern {
        label: "script ending in `exec \"$@\"`",
        start: Start::Script(WITH_EXEC),
    },
    Pattern {
        label: "script with `trap 'exit 143' TERM`",
        start: Start::Script(TRAP_EXIT),
    },
    Pattern {
        label: "the same trap, with `\"$@\" &` and `wait`",
        start: Start::Script(TRAP_EXIT_WAIT),
    },
    Pattern {
        label: "script whose trap passes SIGTERM on",
        start: Start::Script(TRAP_FORWARD),
    },
];

/// A shell that runs scripts: its name in the table and its command.
pub struct Shell {
    pub name: &'static str,
    pub command: &'static [&'static str],
    /// The Debian package that brings it, for the line shown without it.
    pub package: &'static str,
}

/// The host's shells, for the rows without Docker.
pub const HOST_SHELLS: [Shell; 3] = [
    Shell {
        name: "dash",
        command: &["/bin/dash"],
        package: "dash",
    },
    Shell {
        name: "bash",
        command: &["/bin/bash"],
        package: "bash",
    },
    Shell {
        name: "busybox sh",
        command: &["/bin/busybox", "sh"],
        package: "busybox-static",
    },
];

/// The image's only shell: `/bin/sh` is busybox.
pub const IMAGE_SHELL: Shell = Shell {
    name: "busybox sh",
    command: &["/bin/sh"],
    package: "busybox-static",
};

/// Where a row runs: a PID namespace made by the book's `container`, or a
/// container of the project's image.
pub enum Place<'a> {
    Namespace { scripts: &'a Path },
    Docker { image: &'a str },
}

/// `app`'s arguments.
pub fn app_args(orphans: u32, lifetime: u32) -> Vec<String> {
    vec![
        "app".into(),
        "--orphans".into(),
        orphans.to_string(),
        "--lifetime".into(),
        lifetime.to_string(),
    ]
}

// ANCHOR: run
/// Starts `app` as `start` says, as PID 1 of `place`, and stops it.
pub fn run(
    place: &Place,
    shell: &Shell,
    start: Start,
    app: &[String],
    grace: Duration,
) -> Result<Outcome, String> {
    let mut command: Vec<String> = Vec::new();
    match start {
        Start::ExecForm => command.extend(app.iter().cloned()),
        Start::ShellForm => {
            command.extend(shell.command.iter().map(|w| w.to_string()));
            command.extend(["-c".to_string(), app.join(" ")]);
        }
        Start::Script(script) => {
            command.extend(shell.command.iter().map(|w| w.to_string()));
            command.extend(script_words(place, script)?);
            command.extend(app.iter().cloned());
        }
    }
    eprintln!("pid1-table: {}", command.join(" ").replace('\n', "; "));
    let plan = Plan {
        container: sibling("container"),
        command: command.into_iter().map(OsString::from).collect(),
        grace,
        ready: 1,
    };
    match place {
        Place::Namespace { .. } => stop(&plan),
        Place::Docker { image } => docker_stop(image, &plan),
    }
}

/// The words that make a shell run `script` as a file. In a namespace the
/// file is written on the host (the namespace shares its files); a
/// container of the image first writes it to `/entrypoint.sh`, then `exec`s
/// the shell on it, so that PID 1 ends up a shell running a script file.
pub fn script_words(place: &Place, script: &str) -> Result<Vec<String>, String> {
    match place {
        Place::Namespace { scripts } => {
            let file = scripts.join(format!("{}.sh", hash_hex(script.as_bytes())));
            std::fs::write(&file, script)
                .map_err(|e| format!("writing {}: {e}", file.display()))?;
            Ok(vec![file.display().to_string()])
        }
        Place::Docker { .. } => Ok(vec![
            "-c".into(),
            "printf '%s' \"$1\" > /entrypoint.sh && shift && exec /bin/sh /entrypoint.sh \"$@\""
                .into(),
            "sh".into(),
            script.into(),
        ]),
    }
}
// ANCHOR_END: run

/// A temporary directory for the scripts, removed when dropped.
pub struct Scripts {
    pub dir: PathBuf,
}

impl Scripts {
    pub fn new() -> Result<Scripts, String> {
        let dir = std::env::temp_dir().join(format!("orphans-ch13-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(Scripts { dir })
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
