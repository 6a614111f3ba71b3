//! foster, an init for containers, one idea per module: reading the command
//! line, owning the signals, starting the command, reaping, and shutting
//! down with grace. `main.rs` is the small `main` that strings them
//! together.
//!
//! Two modules are also what the book's other programs use: [`status`]
//! (what a wait status means) and [`procfs`] (reading `/proc`). They live
//! here, in the crate that must stay small, so that the book depends on
//! foster and never the other way round.

// Every `unsafe` is in `sys`, behind safe functions with contracts.
#![deny(unsafe_code)]

// Lets each module name its siblings `foster::…`, the same path a chapter's
// code block uses when it is compiled as a program of its own.
extern crate self as foster;

pub mod log;
pub mod options;
pub mod pidfd;
pub mod procfs;
pub mod reap;
pub mod shutdown;
pub mod signals;
pub mod spawn;
pub mod status;
pub mod stop_delay;
#[allow(unsafe_code)]
pub mod sys;
pub mod user;
