//! Process helpers that the standard library does not offer in the form a
//! freshly forked child needs.

/// Ends the calling process at once with `code`, like `_exit(2)`: no atexit
/// handlers, no flushing of buffers shared with the parent. This is how a
/// forked child that will not exec must leave (fork(2), signal-safety(7)).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes no pointers and never returns; it is
    // async-signal-safe, so it is sound even in a child forked from a
    // process whose other threads held locks at the time of the fork.
    unsafe { libc::_exit(code) }
}
