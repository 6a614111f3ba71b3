//! The parts of chapter 12's `initbench` that its measures share, in the
//! book's library so that each measure's file, shown in the chapter, also
//! compiles on its own as the book's tests require. The benchmark itself
//! (its command line, the measures, the output and the workloads) is the
//! `initbench` program in `listings/ch12-how-foster-compares/initbench`.

/// Starting and ending the namespaces, and the order of turns.
pub mod bench;
/// The run in a CPU cgroup of its own, so that autogroup plays no part.
pub mod cgroup;
/// How much a run measures, the inits and their roles.
pub mod plan;
/// Figures, medians and the spread between rounds.
pub mod stats;
