//! The ways chapter 17 starts its application: each runtime on the app
//! written in its language, and the wrappers people put in front of them;
//! and the folder where they run.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use orphans::capability::{on_path, Missing};

/// The chapter's files, built into this program so that the tables always
/// run the code the chapter shows.
const FILES: [(&str, &str); 7] = [
    ("app.py", include_str!("../app.py")),
    ("app.js", include_str!("../app.js")),
    ("App.java", include_str!("../App.java")),
    ("app.pl", include_str!("../app.pl")),
    ("app.sh", include_str!("../app.sh")),
    ("package.json", include_str!("../package.json")),
    ("entrypoint.sh", include_str!("../entrypoint.sh")),
];

/// The shell version of the app, for the rows in Docker.
pub const APP_SH: &str = include_str!("../app.sh");
/// The exec probe of the Kubernetes section.
pub const PROBE_SH: &str = include_str!("../probe.sh");

/// One way of starting the application.
pub struct Row {
    /// The command as a reader would type it, which the table shows.
    pub label: &'static str,
    /// The words that run it, in the folder of the chapter's files.
    pub command: &'static [&'static str],
    /// The programs it needs on `$PATH`, each with its Debian package.
    pub needs: &'static [(&'static str, &'static str)],
    /// A command that must run first, once (Java's compiler).
    pub prepare: &'static [&'static str],
    /// A command that prints the runtime's version.
    pub version: &'static [&'static str],
    /// How the app sets SIGCHLD to SIG_IGN when given `--ignore-sigchld`;
    /// empty if it cannot.
    pub ignores_sigchld: &'static str,
}

/// Each runtime, running the app in its own language as PID 1.
pub const RUNTIMES: [Row; 7] = [
    Row {
        label: "python3 app.py",
        command: &["python3", "app.py"],
        needs: &[("python3", "python3")],
        prepare: &[],
        version: &["python3", "--version"],
        ignores_sigchld: "signal.signal(signal.SIGCHLD, signal.SIG_IGN)",
    },
    Row {
        label: "node app.js",
        command: &["node", "app.js"],
        needs: &[("node", "nodejs")],
        prepare: &[],
        version: &["node", "--version"],
        ignores_sigchld: "",
    },
    Row {
        label: "java App",
        command: &["java", "App"],
        needs: &[
            ("java", "default-jdk-headless"),
            ("javac", "default-jdk-headless"),
        ],
        prepare: &["javac", "-d", ".", "App.java"],
        version: &["java", "-version"],
        ignores_sigchld: "Signal.handle(new Signal(\"CHLD\"), SignalHandler.SIG_IGN)",
    },
    Row {
        label: "perl app.pl",
        command: &["perl", "app.pl"],
        needs: &[("perl", "perl")],
        prepare: &[],
        version: &["perl", "-e", "print \"perl $^V\\n\""],
        ignores_sigchld: "$SIG{CHLD} = 'IGNORE'",
    },
    Row {
        label: "bash app.sh",
        command: &["bash", "app.sh"],
        needs: &[("bash", "bash")],
        prepare: &[],
        version: &["bash", "-c", "echo bash $BASH_VERSION"],
        ignores_sigchld: "trap '' CHLD",
    },
    Row {
        label: "dash app.sh",
        command: &["dash", "app.sh"],
        needs: &[("dash", "dash")],
        prepare: &[],
        version: &[],
        ignores_sigchld: "trap '' CHLD",
    },
    Row {
        label: "busybox sh app.sh",
        command: &["busybox", "sh", "app.sh"],
        needs: &[("busybox", "busybox-static")],
        prepare: &[],
        version: &["busybox"],
        ignores_sigchld: "trap '' CHLD",
    },
];

/// The wrappers: a program between PID 1 and the runtime.
pub const WRAPPERS: [Row; 3] = [
    Row {
        label: "npm start",
        command: &["npm", "start"],
        needs: &[("npm", "npm"), ("node", "nodejs")],
        prepare: &[],
        version: &["npm", "--version"],
        ignores_sigchld: "",
    },
    Row {
        label: "sh -c \"python3 app.py\"",
        command: &["sh", "-c", "python3 app.py"],
        needs: &[("sh", "dash"), ("python3", "python3")],
        prepare: &[],
        version: &[],
        ignores_sigchld: "",
    },
    Row {
        label: "sh entrypoint.sh",
        command: &["sh", "entrypoint.sh"],
        needs: &[("sh", "dash"), ("python3", "python3")],
        prepare: &[],
        version: &[],
        ignores_sigchld: "",
    },
];

impl Row {
    /// What this machine lacks to run the row: the first program of
    /// [`Row::needs`] that is not on `$PATH`.
    pub fn missing(&self) -> Option<Missing> {
        self.needs.iter().find_map(|(program, package)| {
            on_path(program).is_none().then(|| {
                Missing::new(
                    &format!("`{program}`"),
                    "it is not on $PATH",
                    &format!("apt-get install {package}"),
                )
            })
        })
    }

    /// The runtime's version as it says it, in one line; `None` for a
    /// program that has no version option (dash) or did not answer.
    pub fn version(&self) -> Option<String> {
        let (program, args) = self.version.split_first()?;
        let output = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        // `java -version` answers on stderr.
        let text = [output.stdout, output.stderr].concat();
        let line = String::from_utf8_lossy(&text)
            .lines()
            .next()?
            .trim()
            .to_string();
        (!line.is_empty()).then_some(line)
    }
}

/// A temporary folder holding the chapter's files, where the rows run
/// (the process's current directory while it lives); removed when dropped.
pub struct Folder {
    pub dir: PathBuf,
    prepared: Vec<&'static str>,
}

impl Folder {
    /// Writes the files and makes the folder the current directory, so
    /// that `npm start` finds `package.json` and the scripts their apps.
    pub fn new() -> Result<Folder, String> {
        let dir = std::env::temp_dir().join(format!("orphans-ch17-{}", std::process::id()));
        let io = |e: std::io::Error| format!("preparing {}: {e}", dir.display());
        std::fs::create_dir_all(&dir).map_err(io)?;
        for (name, text) in FILES {
            std::fs::write(dir.join(name), text).map_err(io)?;
        }
        std::env::set_current_dir(&dir).map_err(io)?;
        Ok(Folder {
            dir,
            prepared: Vec::new(),
        })
    }

    /// Runs `row`'s preparation, the first time only.
    pub fn prepare(&mut self, row: &Row) -> Result<(), String> {
        let Some((program, args)) = row.prepare.split_first() else {
            return Ok(());
        };
        if self.prepared.contains(&row.label) {
            return Ok(());
        }
        let output = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            return Err(format!(
                "`{}` failed: {}",
                row.prepare.join(" "),
                orphans::missing::one_line(&said)
            ));
        }
        self.prepared.push(row.label);
        Ok(())
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(std::env::temp_dir());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::capability::RUNTIME_PROGRAMS;

    /// The experiment's cache knows the rows' programs by this list: one
    /// left out would keep an old measurement after it is upgraded.
    #[test]
    fn the_cache_knows_every_program_a_row_runs() {
        for row in RUNTIMES.iter().chain(&WRAPPERS) {
            for (program, _) in row.needs {
                assert!(
                    RUNTIME_PROGRAMS.contains(program),
                    "{}: {program} is not in RUNTIME_PROGRAMS",
                    row.label
                );
            }
        }
    }
}
