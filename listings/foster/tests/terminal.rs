//! foster on a terminal, as `docker run -it` gives it one: the command's
//! process group is the terminal's foreground group, so Ctrl-C and Ctrl-Z
//! reach the command (and not foster), SIGCONT sent to foster resumes a
//! stopped command, foster itself is never stopped, and a shell as the
//! command runs its jobs. As PID 1 and not.
//!
//! The terminal is a pseudo-terminal (pty(7)) that the test opens itself:
//! foster's side is the session leader's controlling terminal, and what
//! the test writes to the other side is what a user types. With the
//! terminal's default settings, a ^C byte makes the kernel send SIGINT to
//! the foreground process group, ^Z SIGTSTP (termios(3), ISIG).

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{first_child_of, foster, foster_below, places};

/// How long the test waits for something it expects to see.
const PATIENCE: Duration = Duration::from_secs(20);

/// A program running on a new pseudo-terminal, and what it has written.
struct Terminal {
    /// The other side: what is written here is typed, what is read was shown.
    master: File,
    child: Child,
    /// Shown but not yet consumed by [`Terminal::expect`].
    seen: String,
}

impl Terminal {
    /// Starts `command` as the leader of a new session whose controlling
    /// terminal is a new pseudo-terminal, on its stdin, stdout and stderr.
    fn start(mut command: Command) -> Terminal {
        let (master, terminal) = open_pty();
        let stdio = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the terminal"));
        command
            .stdin(stdio(&terminal))
            .stdout(stdio(&terminal))
            .stderr(stdio(&terminal));
        // SAFETY: between fork and exec, only setsid(2) and ioctl(2), which
        // are async-signal-safe. std has made the terminal fd 0 by then.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start on the terminal");
        drop(command);
        drop(terminal);
        Terminal {
            master,
            child,
            seen: String::new(),
        }
    }

    /// Reads what was shown until `needle` appears, and returns the text up
    /// to it (the rest is kept for later). Panics after [`PATIENCE`].
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = self.seen.find(needle) {
                let rest = self.seen.split_off(at + needle.len());
                return std::mem::replace(&mut self.seen, rest);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.read_within(left) {
                panic!("never shown: {needle:?}; shown: {:?}", self.seen);
            }
        }
    }

    /// Reads what is there within `timeout`; false at the end (every
    /// process has closed the terminal) or when nothing came.
    fn read_within(&mut self, timeout: Duration) -> bool {
        let mut poll = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: poll(2) reads and writes the one pollfd on our stack.
        if unsafe { libc::poll(&mut poll, 1, millis) } <= 0 {
            return false;
        }
        let mut buffer = [0u8; 4096];
        match self.master.read(&mut buffer) {
            // EIO: no process has the terminal open any more.
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
                true
            }
        }
    }

    /// Types `bytes`: ^C is `\x03`, ^Z `\x1a`, Enter `\n`.
    fn type_in(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("type on the terminal");
    }

    /// foster's PID as the test sees it, once its command runs.
    fn foster(&self) -> i32 {
        foster_below(self.child.id())
    }

    /// Waits for the program the test started to end; its exit code.
    fn finish(mut self) -> Option<i32> {
        // Keep reading, so that nothing blocks on a full terminal.
        while self.read_within(Duration::from_millis(100)) {}
        self.child.wait().expect("wait").code()
    }
}

/// A new pseudo-terminal: the master side, and the terminal itself
/// (posix_openpt(3), grantpt(3), unlockpt(3), ptsname(3)).
fn open_pty() -> (File, OwnedFd) {
    // SAFETY: posix_openpt returns a new descriptor or -1; grantpt and
    // unlockpt take it; ptsname_r writes at most `name.len()` bytes,
    // NUL-terminated, into `name`; open gets that NUL-terminated path.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(
            master >= 0,
            "posix_openpt: {}",
            std::io::Error::last_os_error()
        );
        let master = File::from_raw_fd(master);
        assert_eq!(libc::grantpt(master.as_raw_fd()), 0, "grantpt");
        assert_eq!(libc::unlockpt(master.as_raw_fd()), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(
            libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
        let terminal = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        assert!(
            terminal >= 0,
            "open the terminal: {}",
            std::io::Error::last_os_error()
        );
        (master, OwnedFd::from_raw_fd(terminal))
    }
}

/// The state letter of `pid` (`T` stopped, `S` sleeping…), waiting up to
/// [`PATIENCE`] for it to be one of `wanted`; the last one seen.
fn state_becomes(pid: i32, wanted: &[char]) -> Option<char> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = foster::procfs::state(pid);
        if state.is_some_and(|s| wanted.contains(&s)) || Instant::now() > deadline {
            return state;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Prints the command's PID, its process group and the terminal's
/// foreground group (fields 1, 5 and 8 of /proc/PID/stat, proc(5)) after
/// `ids`, which the terminal's echo of this line does not show.
const IDS: &str = r#"set -- $(cat /proc/$$/stat); echo "i""ds $1 $5 $8 ."; "#;

/// The command's PID, process group and the terminal's foreground group,
/// from a line [`IDS`] printed.
fn ids(terminal: &mut Terminal) -> [String; 3] {
    terminal.expect("ids ");
    let line = terminal.expect(" .");
    let words: Vec<String> = line.split_whitespace().take(3).map(String::from).collect();
    words.try_into().expect("three numbers")
}

#[test]
fn ctrl_c_ends_the_command_in_the_foreground_with_130() {
    for place in places() {
        let script = format!("{IDS}exec sleep 30");
        let mut terminal = Terminal::start(foster(place, &["sh", "-c", &script]));
        let [pid, group, foreground] = ids(&mut terminal);
        assert_eq!(pid, group, "{place:?}: the command leads its own group");
        assert_eq!(group, foreground, "{place:?}: its group has the terminal");
        let started = Instant::now();
        terminal.type_in(b"\x03");
        assert_eq!(terminal.finish(), Some(130), "{place:?}");
        // At once: long before the sleep would have ended by itself.
        assert!(started.elapsed() < Duration::from_secs(20), "{place:?}");
    }
}

#[test]
fn ctrl_z_stops_the_command_not_foster_and_sigcont_resumes_it() {
    for place in places() {
        let script = "echo ready; read line; echo \"got $line\"; exit 4";
        let mut terminal = Terminal::start(foster(place, &["sh", "-c", script]));
        terminal.expect("ready");
        let foster = terminal.foster();
        let command = first_child_of(foster as u32) as i32;
        terminal.type_in(b"\x1a");
        assert_eq!(state_becomes(command, &['T']), Some('T'), "{place:?}");
        let foster_state = foster::procfs::state(foster);
        assert!(
            matches!(foster_state, Some('S' | 'R')),
            "{place:?}: foster is {foster_state:?}"
        );
        // SAFETY: kill(2) takes two integers and touches no memory.
        assert_eq!(unsafe { libc::kill(foster, libc::SIGCONT) }, 0);
        // Resumed, it goes back to its read(2): sleeping, once it has run.
        assert_eq!(state_becomes(command, &['S']), Some('S'), "{place:?}");
        terminal.type_in(b"hello\n");
        terminal.expect("got hello");
        assert_eq!(terminal.finish(), Some(4), "{place:?}");
    }
}

/// An interactive shell with job control stops itself (SIGTTIN) until it
/// has the terminal's foreground (dash, bash), so it would hang under an
/// init that does not hand it over; with it, it runs jobs, and a ^C ends
/// the job, not the shell.
#[test]
fn a_shell_as_the_command_gets_the_terminal_and_runs_jobs() {
    for place in places() {
        let mut command = foster(place, &["sh", "-i"]);
        // A known prompt (`PS1`), and no rc file from the user's home.
        command.env("PS1", "prompt> ").env_remove("ENV");
        let mut terminal = Terminal::start(command);
        terminal.expect("prompt> ");
        terminal.type_in(format!("{IDS}\n").as_bytes());
        let [pid, group, foreground] = ids(&mut terminal);
        assert_eq!(pid, group, "{place:?}");
        assert_eq!(group, foreground, "{place:?}: the shell has the terminal");
        terminal.expect("prompt> ");
        terminal.type_in(b"sleep 30\n");
        std::thread::sleep(Duration::from_millis(300));
        terminal.type_in(b"\x03");
        terminal.expect("prompt> ");
        terminal.type_in(b"echo alive$((40+2))\n");
        terminal.expect("alive42");
        terminal.type_in(b"exit 7\n");
        assert_eq!(terminal.finish(), Some(7), "{place:?}");
    }
}

/// What the command would see without foster in between: the test's own
/// check that the terminal works as the other tests assume.
#[test]
fn without_foster_the_same_command_has_the_terminal() {
    let mut command = common::command("sh");
    command.args(["-c", &format!("{IDS}exec sleep 30")]);
    let mut terminal = Terminal::start(command);
    let [pid, group, foreground] = ids(&mut terminal);
    assert_eq!(
        (pid.as_str(), group.as_str()),
        (foreground.as_str(), foreground.as_str())
    );
    terminal.type_in(b"\x03");
    assert_eq!(terminal.finish(), None, "killed by SIGINT");
}
