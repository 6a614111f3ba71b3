//! The parts of `foster`, the book's container init, one idea per module:
//! reading the command line, owning the signals, starting the command,
//! reaping, and shutting down with grace. `listings/foster.rs` is the small
//! `main` that strings them together.

pub mod log;
pub mod options;
pub mod reap;
pub mod shutdown;
pub mod signals;
pub mod spawn;
