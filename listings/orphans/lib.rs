//! The library behind the book "Docker Zombies and Orphans".
//!
//! Each chapter's programs (in `listings/chNN-slug/`: the probe, the
//! container, the subreaper, the workloads and tables of the later chapters)
//! are small `main`s on top of these modules, so that a chapter can show one
//! idea at a time. What a wait status means and how to read `/proc` come
//! from foster's crate (`foster::status`, `foster::procfs`), which the book
//! uses rather than copies.

// Lets modules name this crate `orphans::…`, the same path a chapter's code
// block uses when skeptic compiles it as a program of its own.
extern crate self as orphans;

/// Command lines: usage errors, help, bounded numbers and durations.
pub mod bounds;
/// What this machine can run, and the one line a page shows when it cannot.
pub mod capability;
/// Chapters 14 and 15: the processes of a PID namespace, seen from inside.
pub mod census;
pub mod cli;
/// Chapter 5: the Docker engine and the project's image.
pub mod docker;
/// Chapters 14 and 15: containers through Docker's or Podman's command line.
pub mod engine;
pub mod image;
/// mdBook's include directives, expanded for build.rs (which compiles
/// this module on its own) and tested here.
pub mod includes;
/// Chapter 12: what the measures of `initbench` share (the files live with
/// the benchmark, in the chapter's folder).
#[path = "../ch12-how-foster-compares/initbench/shared/mod.rs"]
pub mod initbench;
/// Chapter 9: how workloads report what happened to them, and `docker stop`.
pub mod journal;
pub mod orphan;
/// Chapters 3 and 4: the probe's records and tables, and its pictures.
pub mod picture;
/// Chapter 15: the project's image in Podman, and Podman's pods.
pub mod podman;
/// Small process helpers for forked children.
pub mod process;
pub mod report;
pub mod spawn;
pub mod stop;
/// Where the checkout, cargo's target directory and the book's caches are.
pub mod workspace;
