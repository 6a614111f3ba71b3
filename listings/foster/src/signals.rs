//! foster owns every signal it can: it blocks them all and reads them, one
//! at a time, from a signalfd(2). No handler ever runs, so nothing happens
//! "between" two lines of foster, and a blocking read(2) with no timeout
//! means foster sleeps until a signal comes: no wake-ups while idle (tini
//! wakes up every second to poll).

use std::time::Duration;

use foster::sys::{block, every_signal, read_record, set_action};
use nix::errno::Errno;
use nix::libc;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::AsFd;

// ANCHOR: take_over
/// Whether signal `number` is one the kernel raises *because of* what the
/// process just did: a bad memory access, an illegal instruction, a
/// division by zero, a breakpoint, a forbidden system call, abort(3).
/// foster blocks them like the others, because another process may also
/// *send* them with kill(2), and then they are a message for the command.
/// A real fault still kills foster: when the kernel forces a fault's signal
/// on a process that blocks it, it unblocks it and restores its default
/// action first (force_sig_info_to_task, kernel/signal.c), and abort(3)
/// unblocks SIGABRT before raising it.
fn is_synchronous(number: i32) -> bool {
    // One comparison of bits, not a search of a list: foster asks this of
    // every signal it reads.
    matches!(
        number,
        libc::SIGSEGV
            | libc::SIGBUS
            | libc::SIGFPE
            | libc::SIGILL
            | libc::SIGTRAP
            | libc::SIGSYS
            | libc::SIGABRT
    )
}

/// Whether signal `number` may be one that foster must not simply pass
/// on: a synchronous one ([`checked`]), or one that a write(2) of foster's
/// own can raise, SIGPIPE or SIGXFSZ ([`Arrival::raised_by`]).
fn needs_a_look(number: i32) -> bool {
    is_synchronous(number) || matches!(number, libc::SIGPIPE | libc::SIGXFSZ)
}

/// The signalfd foster reads, and the mask it found at start (the command
/// gets that mask back).
pub struct Signals {
    fd: SignalFd,
    pub original_mask: SigSet,
    /// foster's own PID, to tell the signals its own calls raise.
    me: i32,
}

impl Signals {
    /// Blocks every signal, 1 to 64 ([`every_signal`]), and opens a
    /// signalfd for them. Must run before the command starts, so that not
    /// even its first SIGCHLD can be lost: a blocked signal stays pending
    /// until the signalfd is read, even one whose action is "ignore"
    /// (sig_ignored, kernel/signal.c, never drops a blocked signal).
    pub fn take_over() -> nix::Result<Signals> {
        let mut original_mask = SigSet::empty();
        sigprocmask(SigmaskHow::SIG_BLOCK, None, Some(&mut original_mask))?;
        let every = every_signal();
        block(&every)?;
        // A parent may have left SIGCHLD *ignored*, and that survives
        // execve(2). Then the kernel reaps foster's children itself and
        // their statuses are lost (wait(2), NOTES): foster would never
        // learn that the command exited. Back to the default action.
        set_action(Signal::SIGCHLD, false)?;
        let fd = SignalFd::with_flags(&every, SfdFlags::SFD_CLOEXEC)?;
        let me = nix::unistd::getpid().as_raw();
        Ok(Signals {
            fd,
            original_mask,
            me,
        })
    }
    // ANCHOR_END: take_over

    // ANCHOR: next
    /// Waits, as long as it takes, for the next signal. Never fails: if the
    /// signalfd ever breaks, foster says so and falls back to checking for
    /// dead children once a second (as if a SIGCHLD had come), which keeps
    /// it reaping. A signal that foster's own system call raised is
    /// nobody's message, and is dropped here ([`Arrival::raised_by`]).
    ///
    /// Inlined into foster's loop: it runs once per signal, and a call of
    /// its own would save and restore registers each time.
    #[inline(always)]
    pub fn next(&self) -> Arrival {
        loop {
            match read_one(&self.fd) {
                // Most signals need no second look: one test of bits.
                Ok(Some(arrival)) if !needs_a_look(arrival.number) => return arrival,
                Ok(Some(arrival)) if arrival.raised_by(self.me) => continue,
                Ok(Some(arrival)) => return checked(arrival),
                Ok(None) | Err(Errno::EINTR) => continue,
                Err(error) => return unreadable(error),
            }
        }
    }
    // ANCHOR_END: next

    /// Like [`Signals::next`], but gives up after `timeout` (`None`): used
    /// while foster waits out the grace time.
    pub fn next_within(&self, timeout: Duration) -> Option<Arrival> {
        let millis = timeout.as_millis().clamp(1, i32::MAX as u128);
        let timeout = i32::try_from(millis)
            .ok()
            .and_then(|m| PollTimeout::try_from(m).ok())
            .unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => None,
            Ok(_) => Some(self.next()),
            // Interrupted or failing: let the caller look again.
            Err(_) => Some(Arrival::poll()),
        }
    }
}

/// What foster does when its signalfd cannot be read: says so, waits a
/// second, and acts as if a child had died. Out of line: it never runs in
/// the common case, and [`Signals::next`] stays small.
#[cold]
#[inline(never)]
fn unreadable(error: Errno) -> Arrival {
    foster::log::say(format_args!(
        "warning: reading the signalfd: {error}; polling every second"
    ));
    std::thread::sleep(Duration::from_secs(1));
    Arrival::poll()
}

// ANCHOR: arrival
/// One signal read from the signalfd: its number, and `si_code`, which
/// says who sent it (sigaction(2), "The siginfo_t argument"): SI_USER for
/// kill(2), SI_QUEUE for sigqueue(3), SI_TKILL for tgkill(2); a positive
/// code when the kernel did, such as CLD_EXITED when a child ended. No
/// process may send a positive code to another (rt_sigqueueinfo(2)).
/// With SI_USER comes `si_pid`, the sender's PID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub number: i32,
    pub code: i32,
    pub sender: i32,
}

impl Arrival {
    /// What foster acts on when it cannot read signals: "a child may have
    /// died, look".
    fn poll() -> Arrival {
        Arrival {
            number: Signal::SIGCHLD as i32,
            code: libc::CLD_EXITED,
            sender: 0,
        }
    }

    /// Whether process `me` raised it with a system call of its own: a
    /// write(2) to a pipe nobody reads raises SIGPIPE, one past
    /// RLIMIT_FSIZE SIGXFSZ, and the kernel sends those as if the writer
    /// had called kill(2) on itself: SI_USER, with the writer's PID
    /// (send_sig with no siginfo, kernel/signal.c). foster never signals
    /// itself otherwise, so such a signal is never the user's: forwarded,
    /// it would kill the command for a log line that could not be written.
    pub fn raised_by(self, me: i32) -> bool {
        self.code == libc::SI_USER && self.sender == me
    }

    /// Whether a process sent it (kill(2), sigqueue(3), tgkill(2)), as
    /// opposed to the kernel.
    pub fn sent_by_a_process(self) -> bool {
        matches!(self.code, libc::SI_USER | libc::SI_QUEUE | libc::SI_TKILL)
    }
}

/// Reads one signal. signalfd(2) hands out whole `signalfd_siginfo`
/// records of 128 bytes, whose first fields are `ssi_signo` (u32),
/// `ssi_errno` (i32), `ssi_code` (i32) and `ssi_pid` (u32, the sender's
/// PID in foster's namespace, 0 for one outside it): read here as 32 words
/// of 32 bits, of which the first, third and fourth are wanted, so no other
/// layout is assumed. (nix's `read_signal` panics on a short read; the
/// kernel never makes one, but an init must not panic.) `Ok(None)`: nothing
/// whole was read, read again.
#[inline(always)]
fn read_one(fd: &SignalFd) -> nix::Result<Option<Arrival>> {
    let Some([signo, _errno, code, pid, ..]) = read_record(fd.as_fd())? else {
        return Ok(None);
    };
    Ok(Some(Arrival {
        // 1 to 64, so the same number as an i32 (a conversion that checks
        // cost a sixth of foster's own work per signal); were it ever
        // larger, kill(2) would refuse it and foster would say so.
        number: signo as i32,
        // `ssi_code` is an i32: the same 32 bits, read back as one.
        code: code as i32,
        // A PID, at most 2^22 (pid_max's limit, proc(5)): as an i32.
        sender: pid as i32,
    }))
}
// ANCHOR_END: arrival

// ANCHOR: checked
/// The signal read from the signalfd, unless it is a synchronous signal
/// that the *kernel* sent (not through a fault, which never reaches the
/// signalfd: a machine-check error, say). Then foster dies of it.
#[inline(always)]
fn checked(arrival: Arrival) -> Arrival {
    if is_synchronous(arrival.number) && !arrival.sent_by_a_process() {
        die_of(arrival.number);
    }
    arrival
}

/// Ends foster by signal `number`, as an unhandled fault would: default
/// action, unblocked, raised. PID 1 is immune to its own signal (the
/// kernel drops signals without a handler for a namespace's init), so
/// foster then exits with the status that death would have given.
fn die_of(number: i32) -> ! {
    foster::log::say(format_args!(
        "fatal: {} from the kernel; dying of it",
        name(number)
    ));
    if let Ok(signal) = Signal::try_from(number) {
        let _ = set_action(signal, false);
        let mut just_this = SigSet::empty();
        just_this.add(signal);
        let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&just_this), None);
        let _ = send(nix::unistd::getpid().as_raw(), number);
    }
    std::process::exit(128 + number.clamp(0, 64))
}
// ANCHOR_END: checked

/// Sends signal `number` to `pid`: kill(2) with a raw number
/// ([`foster::sys::kill`]).
pub use foster::sys::kill as send;

/// A signal's name for messages: `SIGTERM`, `SIGRTMIN+3`, or its number.
pub fn name(number: i32) -> String {
    match Signal::try_from(number) {
        Ok(signal) => signal.as_str().to_string(),
        Err(_) if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&number) => {
            format!("SIGRTMIN+{}", number - libc::SIGRTMIN())
        }
        Err(_) => format!("signal {number}"),
    }
}

/// A signal's number from a name with or without `SIG`, in any case
/// (`TERM`, `sigterm`, `SIGRTMIN+2`), or from its number (`15`).
pub fn parse_signal(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(number) = text.parse::<i32>() {
        return (1..=libc::SIGRTMAX()).contains(&number).then_some(number);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    // Real-time signals by name: RTMIN, RTMIN+N, RTMAX, RTMAX-N.
    let realtime = |base: i32, offset: Option<&str>, sign: i32| -> Option<i32> {
        let offset: i32 = match offset? {
            "" => 0,
            digits => digits.parse().ok()?,
        };
        // Checked: an offset such as +2147483647 is an error, not an overflow.
        let number = base.checked_add(sign.checked_mul(offset)?)?;
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&number)
            .then_some(number)
    };
    if let Some(rest) = bare.strip_prefix("RTMIN") {
        let offset = if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('+')
        };
        return realtime(libc::SIGRTMIN(), offset, 1);
    }
    if let Some(rest) = bare.strip_prefix("RTMAX") {
        let offset = if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('-')
        };
        return realtime(libc::SIGRTMAX(), offset, -1);
    }
    format!("SIG{bare}")
        .parse::<Signal>()
        .ok()
        .map(|s| s as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_signal("TERM"), Some(15));
        assert_eq!(parse_signal("sigkill"), Some(9));
        assert_eq!(parse_signal("10"), Some(10));
        assert_eq!(parse_signal("RTMIN+1"), Some(libc::SIGRTMIN() + 1));
        assert_eq!(parse_signal("SIGRTMAX"), Some(libc::SIGRTMAX()));
        assert_eq!(parse_signal("0"), None);
        assert_eq!(parse_signal("NOPE"), None);
        assert_eq!(parse_signal("RTMIN+x"), None);
        assert_eq!(parse_signal("RTMAX+1"), None);
        assert_eq!(parse_signal("RTMAX-1"), Some(libc::SIGRTMAX() - 1));
        assert_eq!(parse_signal("RTMIN+2147483647"), None);
        assert_eq!(parse_signal("RTMAX-2147483648"), None);
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(libc::SIGRTMIN() + 2), "SIGRTMIN+2");
    }

    /// The signals a fault or abort(3) raises.
    const SYNCHRONOUS: [Signal; 7] = [
        Signal::SIGSEGV,
        Signal::SIGBUS,
        Signal::SIGFPE,
        Signal::SIGILL,
        Signal::SIGTRAP,
        Signal::SIGSYS,
        Signal::SIGABRT,
    ];

    #[test]
    fn a_synchronous_signal_sent_by_a_process_is_a_message() {
        for number in 1..=64 {
            let listed = SYNCHRONOUS.iter().any(|&s| s as i32 == number);
            assert_eq!(is_synchronous(number), listed, "signal {number}");
        }
        for signal in SYNCHRONOUS {
            for code in [libc::SI_USER, libc::SI_QUEUE, libc::SI_TKILL] {
                let arrival = Arrival {
                    number: signal as i32,
                    code,
                    sender: 7,
                };
                assert!(arrival.sent_by_a_process());
                assert_eq!(checked(arrival), arrival);
            }
        }
        // Asynchronous signals pass whoever sent them (SI_KERNEL: a
        // terminal's ^C, say; CLD_EXITED: a child's end).
        for code in [libc::SI_KERNEL, libc::CLD_EXITED] {
            let arrival = Arrival {
                number: libc::SIGINT,
                code,
                sender: 0,
            };
            assert!(!arrival.sent_by_a_process());
            assert_eq!(checked(arrival), arrival);
        }
    }

    #[test]
    fn only_a_signal_foster_raised_on_itself_is_foster_s() {
        let pipe = |code, sender| Arrival {
            number: libc::SIGPIPE,
            code,
            sender,
        };
        assert!(pipe(libc::SI_USER, 1).raised_by(1));
        // kill -PIPE from another process, or from outside the namespace
        // (PID 0), or the kernel's own: the user's.
        assert!(!pipe(libc::SI_USER, 5).raised_by(1));
        assert!(!pipe(libc::SI_USER, 0).raised_by(1));
        assert!(!pipe(libc::SI_KERNEL, 1).raised_by(1));
        assert!(!pipe(libc::SI_QUEUE, 1).raised_by(1));
    }
}
