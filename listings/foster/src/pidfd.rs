//! Process file descriptors: a handle on one process, not on a number.
//!
//! kill(2) takes a PID, and a PID is only a number: once its process has
//! died and been reaped, the kernel may give it to a new process, and a
//! kill(2) meant for the old one reaches the new one. A pidfd, made by
//! pidfd_open(2) (Linux 5.3), refers to the process that had that PID when
//! it was opened; pidfd_send_signal(2) (Linux 5.1) signals that process or
//! fails with ESRCH once it is gone, whoever has the number by then.
//! nix 0.32 has neither call, and the C libraries wrap them only in recent
//! versions, so foster makes the system calls itself.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;

/// A pidfd: closed when dropped.
pub struct PidFd(OwnedFd);

impl PidFd {
    /// pidfd_open(2) for `pid`. ESRCH: no such process; ENOSYS: a kernel
    /// older than 5.3.
    pub fn open(pid: i32) -> Result<PidFd, Errno> {
        foster::sys::pidfd_open(pid).map(PidFd)
    }

    /// pidfd_send_signal(2): signal `number` to this process, as kill(2)
    /// would (the receiver sees SI_USER), or ESRCH if it has been reaped.
    pub fn send(&self, number: i32) -> Result<(), Errno> {
        foster::sys::pidfd_send_signal(self.0.as_fd(), number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfd_outlives_the_number() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("start sleep");
        let pidfd = PidFd::open(child.id() as i32).expect("pidfd_open");
        assert_eq!(pidfd.send(0), Ok(()));
        assert_eq!(pidfd.send(libc::SIGKILL), Ok(()));
        let _ = child.wait();
        // Reaped: the pidfd no longer names a process, whatever the PID
        // becomes.
        assert_eq!(pidfd.send(0), Err(Errno::ESRCH));
        assert_eq!(PidFd::open(-5).err(), Some(Errno::EINVAL));
    }
}
