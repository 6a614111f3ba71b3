//! The later chapters' experiments on a PID namespace: orphans made on
//! purpose ([`orphan`]), the journal in which workloads note what happened
//! to them ([`journal`]), a stop done the way `docker stop` does it
//! ([`stop`]), and a census of a namespace taken from inside ([`census`]).

pub mod census;
pub mod journal;
pub mod orphan;
pub mod stop;
