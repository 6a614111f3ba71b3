//! What chapter 17 reads in a namespace once its application is ready:
//! how PID 1 treats a signal, how many zombies there are, and what the
//! application noted in the journal about its helper's exit.

use nix::sys::signal::Signal;
use orphans::namespace::stop::Ready;
use orphans::process::signals::Disposition;

/// How many processes below `pid1` (itself excluded: a PID 1 that is a
/// zombie has ended its namespace) are zombies (`Z` in `/proc/PID/stat`).
pub fn zombies_below(pid1: i32) -> usize {
    orphans::process::procfs::descendants(pid1)
        .into_iter()
        .filter(|&pid| orphans::process::procfs::state(pid) == Some('Z'))
        .count()
}

/// The status the application says its helper's exit gave it: the line
/// `child STATUS PID` of the journal's text (its other lines are the
/// `ready` and `sigterm` lines of chapter 9). `None` if there is none.
pub fn helper_status(journal: &str) -> Option<i32> {
    journal.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == "child").then_some(())?;
        words.next()?.parse().ok()
    })
}

/// What the look found once the application was ready.
pub struct Seen {
    /// PID 1's command name.
    pub pid1: String,
    pub sigterm: Option<Disposition>,
    pub sigchld: Option<Disposition>,
    pub zombies: usize,
    /// The status the application read for its helper's `exit 3`.
    pub helper: Option<i32>,
}

// ANCHOR: look
/// Looks at the namespace whose application said it is ready.
pub fn look_at(ready: &Ready) -> Seen {
    let pid1 = ready.pid1.as_raw();
    Seen {
        pid1: orphans::process::procfs::comm(pid1).unwrap_or_default(),
        sigterm: Disposition::of(pid1, Signal::SIGTERM),
        sigchld: Disposition::of(pid1, Signal::SIGCHLD),
        zombies: zombies_below(pid1),
        helper: helper_status(&ready.journal),
    }
}
// ANCHOR_END: look

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helpers_status_is_the_child_line() {
        assert_eq!(helper_status("child 3 1\nready python 1\n"), Some(3));
        assert_eq!(helper_status("ready perl 1\nchild -1 1\n"), Some(-1));
        assert_eq!(helper_status("ready sh 1\n"), None);
        assert_eq!(helper_status("child x 1\n"), None);
    }
}
