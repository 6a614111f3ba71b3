//! Where `experiment` reports progress: the terminal of the book's build.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;

use orphans::cli::fail;
use orphans::process::procfs::{comm, parent_of};

/// Where progress goes, and the experiment's name in it.
pub struct Progress {
    log: File,
    pub label: String,
}

impl Progress {
    /// The log of the book's build: mdbook-cmdrun runs each line with its
    /// stderr captured (and thrown away unless the command fails), so the
    /// terminal is the stderr of the nearest `mdbook-cmdrun` above us
    /// (`/proc/PID/fd/2`, opened for appending); without one, our own
    /// stderr. Our stderr is pointed there too, for the programs that
    /// report on it (cargo, `docker build`).
    pub fn to_build_log() -> Progress {
        let log = build_log_of_cmdrun().unwrap_or_else(own_stderr);
        // SAFETY: dup2(2) on two descriptors we own; no Rust object owns
        // fd 2, so replacing it breaks no invariant.
        let _ = unsafe { libc::dup2(log.as_raw_fd(), 2) };
        Progress {
            log,
            label: "experiment".into(),
        }
    }

    pub fn say(&mut self, what: &str) {
        let _ = writeln!(self.log, "experiment: {}: {what}", self.label);
    }

    pub fn raw(&mut self, line: &str) {
        let _ = writeln!(self.log, "{line}");
    }

    pub fn clone_log(&self) -> File {
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
