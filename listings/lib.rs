//! The library behind the book "Docker Zombies and Orphans".
//!
//! Each binary in `listings/` (the probe, the container, the subreaper, the
//! init `foster`) is a small `main` on top of these modules, so that chapters
//! can show one idea at a time.

// Lets modules name this crate `orphans::…`, the same path a chapter's code
// block uses when skeptic compiles it as a program of its own.
extern crate self as orphans;

pub mod bounds;
pub mod cli;
pub mod docker;
pub mod image;
pub mod init;
pub mod journal;
pub mod picture;
pub mod process;
pub mod procfs;
pub mod report;
pub mod spawn;
pub mod status;
pub mod stop;
