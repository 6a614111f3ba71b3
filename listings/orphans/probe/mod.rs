//! Chapters 3 and 4: the probe's records and tables ([`report`]), and the
//! pictures of its process trees ([`picture`]).

pub mod picture;
pub mod report;
