//! The library behind the book "Docker Zombies and Orphans".
//!
//! Each chapter's programs (in `listings/chNN-slug/`: the probe, the
//! container, the subreaper, the workloads and tables of the later chapters)
//! are small `main`s on top of these modules, so that a chapter can show one
//! idea at a time. What a wait status means and how foster reads `/proc`
//! come from foster's crate, which the book uses rather than copies.
//!
//! Modules use each other in one direction, from the leaves up:
//! `missing`, `cli`, `workspace`, `table`, `process`, `cgroup` use none of
//! the others (but `missing` → `cli`); `cache` and `toolchain` use those;
//! `containers` uses them; `capability` uses `containers`; `namespace`,
//! `probe` and `initbench` are on top.

// Lets modules name this crate `orphans::…`, the same path a chapter's code
// block uses when skeptic compiles it as a program of its own.
extern crate self as orphans;

/// What the book remembers between runs (one record format, one hash).
pub mod cache;
/// What this machine can run: one check per component, and what an experiment needs.
pub mod capability;
/// Where the cgroup trees are mounted (`/proc/self/mountinfo`).
pub mod cgroup;
/// Command lines: usage errors, help, bounded numbers, table tools' rows.
pub mod cli;
/// Containers: one driver for Docker and Podman, and the project's image.
pub mod containers;
/// Chapter 12: what the measures of `initbench` share.
pub mod initbench;
/// The one line a page shows for what this machine cannot run.
pub mod missing;
/// Chapters 8 to 15: orphans, the journal, a `docker stop`, a census.
pub mod namespace;
/// Chapters 3 and 4: the probe's records and tables, and its pictures.
pub mod probe;
/// Processes: starting them, deadlines, `/proc`, how they ended.
pub mod process;
/// Markdown tables.
pub mod table;
/// The Rust toolchain: the musl target and static builds.
pub mod toolchain;
/// Where the checkout, cargo's target directory and the book's caches are.
pub mod workspace;

pub use orphans::missing::{Missing, NotShown, NOT_RUN};
/// The ELF reader the book shares with the release tool.
pub use orphans_elf as elf;
