//! Every Rust block of the book, as build.rs expanded it, compiled and run.
//! The package `book-blocks` (listings/book/blocks) owns this test and
//! build.rs, which sets `book_blocks`; the root package, which finds this
//! file among its tests too, compiles it to nothing.
#[cfg(book_blocks)]
include!(concat!(env!("OUT_DIR"), "/skeptic-tests.rs"));
