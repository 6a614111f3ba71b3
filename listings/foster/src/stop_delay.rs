//! `--stop-delay`: the first SIGTERM waits before it reaches the command,
//! so that a server keeps answering while whoever sent it stops sending
//! work (Kubernetes takes a pod out of its Service's endpoints at the same
//! time as it sends SIGTERM; chapter 14). Every other signal passes at
//! once, and so does a second SIGTERM: someone who asks twice means now.

use std::time::{Duration, Instant};

use foster::log::Log;
use foster::signals::{Arrival, Signals};
use nix::libc;
use nix::sys::signal::Signal;

// ANCHOR: stop_delay
/// The first SIGTERM, held for the delay.
pub struct StopDelay {
    delay: Duration,
    /// When the held SIGTERM is due; `None` when none is held.
    due: Option<Instant>,
    /// Whether a SIGTERM has been held already: only the first one is.
    used: bool,
}

impl StopDelay {
    /// A delay of zero holds nothing.
    pub fn new(delay: Duration) -> StopDelay {
        StopDelay {
            delay,
            due: None,
            used: false,
        }
    }

    /// The next signal for foster's loop: the next one read, or the held
    /// SIGTERM once it is due, whichever comes first.
    pub fn next(&mut self, signals: &Signals, log: Log) -> Arrival {
        let Some(due) = self.due else {
            return signals.next();
        };
        let left = due.saturating_duration_since(Instant::now());
        if !left.is_zero() {
            if let Some(arrival) = signals.next_within(left) {
                return arrival;
            }
        }
        self.due = None;
        log.info(format_args!("stop delay over: passing SIGTERM on"));
        Arrival {
            number: libc::SIGTERM,
            code: libc::SI_USER,
            sender: 0,
        }
    }

    /// Whether to hold `arrival` back: true for the first SIGTERM (after
    /// which [`StopDelay::next`] hands it back when it is due). A second
    /// SIGTERM while the first waits passes at once, in place of both.
    pub fn holds(&mut self, arrival: Arrival, log: Log) -> bool {
        if arrival.number != Signal::SIGTERM as i32 || self.delay.is_zero() {
            return false;
        }
        if self.due.take().is_some() {
            log.info(format_args!("second SIGTERM: passing it on now"));
            return false;
        }
        if self.used {
            return false;
        }
        self.used = true;
        // Bounded by Grace::MAX, so it cannot overflow; if it could, no delay.
        self.due = Instant::now().checked_add(self.delay);
        log.info(format_args!(
            "SIGTERM: passing it on in {:?} (--stop-delay)",
            self.delay
        ));
        self.due.is_some()
    }
}
// ANCHOR_END: stop_delay
