//! Every Rust block of the book, as build.rs expanded it, compiled and run.
include!(concat!(env!("OUT_DIR"), "/skeptic-tests.rs"));
