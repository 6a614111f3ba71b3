//! Every `unsafe` of foster, in one place: the system calls that nix does
//! not wrap (or wraps in a way an init cannot use), each behind a safe
//! function whose contract says what it needs and what it does. The rest
//! of foster is compiled with `#![deny(unsafe_code)]` (lib.rs, main.rs).
//!
//! Each `unsafe` block says why it is sound in a `// SAFETY:` comment.

use std::ffi::OsString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::errno::Errno;
// nix's own libc, whose sigset_t its SigSet holds (the book's tests compile
// this file next to other copies of the libc crate).
use nix::libc;
use nix::sys::signal::{SigHandler, SigSet, Signal};
use nix::unistd::{Gid, Uid};

// ANCHOR: send
/// Sends signal `number` to `pid` (a negative `pid` means that process
/// group, -1 every process we may signal: kill(2)). Takes a raw number,
/// because nix's `Signal` has no real-time signals and foster forwards
/// those too.
#[inline(always)]
pub fn kill(pid: i32, number: i32) -> nix::Result<()> {
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    match unsafe { libc::kill(pid, number) } {
        0 => Ok(()),
        _ => Err(Errno::last()),
    }
}
// ANCHOR_END: send

/// Sets `signal`'s action to its default (`ignore == false`) or to
/// "ignore" (sigaction(2)). Neither installs a handler, so no code of ours
/// can ever run in a signal context. Async-signal-safe: a forked child may
/// call it before exec.
pub fn set_action(signal: Signal, ignore: bool) -> nix::Result<()> {
    let action = if ignore {
        SigHandler::SigIgn
    } else {
        SigHandler::SigDfl
    };
    // SAFETY: SIG_DFL and SIG_IGN are not functions of ours: nothing runs
    // when the signal comes, so nothing can break an invariant of Rust's.
    unsafe { nix::sys::signal::signal(signal, action) }.map(drop)
}

/// Whether signal `number`'s action is "ignore" right now (sigaction(2)
/// with no new action only reads it). False if the call fails.
pub fn is_ignored(number: i32) -> bool {
    // SAFETY: `old` is a sigaction (plain old data, for which zeros are
    // valid) on our stack, which the kernel fills; a null new action
    // changes nothing.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(number, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Signals 1 to 64, every one the kernel has. `SigSet::all()`, which is
/// sigfillset(3), leaves out the few that the C library keeps for itself
/// (32 and 33 in glibc, 32 to 34 in musl), and glibc's sigprocmask(3) will
/// not block those. But any process may send them, and their default
/// action would end foster: so foster makes this set itself.
pub fn every_signal() -> SigSet {
    // SAFETY: sigset_t is plain data, for which zeros are valid; its first
    // 64 bits stand for signals 1 to 64 (one bit each, whatever the word
    // size, so all ones is every signal); nix takes any such set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        std::ptr::write_unaligned((&mut set as *mut libc::sigset_t).cast::<u64>(), u64::MAX);
        SigSet::from_sigset_t_unchecked(set)
    }
}

/// Adds `set` to the blocked signals with the system call itself,
/// rt_sigprocmask(2), which blocks whatever it is given (but SIGKILL and
/// SIGSTOP, silently), where the C library's wrapper would leave out its
/// own signals.
pub fn block(set: &SigSet) -> nix::Result<()> {
    // The kernel's own set: 64 signals, 8 bytes (_NSIG / 8).
    let kernel_set_size: libc::size_t = 8;
    // SAFETY: the kernel reads `kernel_set_size` bytes of `set`, which is
    // larger, and writes nothing: there is no old set to fill.
    let result = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_BLOCK,
            set.as_ref() as *const libc::sigset_t,
            std::ptr::null_mut::<libc::sigset_t>(),
            kernel_set_size,
        )
    };
    Errno::result(result).map(drop)
}

/// waitpid(2) once for `pid` (-1: any child) with `flags`: the PID it
/// reports (0 with WNOHANG when none has changed state) and the raw wait
/// status. Errors as waitpid(2) gives them, EINTR included.
///
/// Made as wait4(2), which is waitpid(2) with a place for resource usage
/// (none here): musl's waitpid is a thread-cancellation point and goes
/// through the bookkeeping pthread_cancel(3) needs, its wait4 does not, and
/// an init calls this once or twice for every orphan.
#[inline(always)]
pub fn waitpid(pid: i32, flags: libc::c_int) -> nix::Result<(i32, libc::c_int)> {
    let mut raw: libc::c_int = 0;
    // SAFETY: wait4 writes one c_int through the pointer, which points to
    // `raw`, alive for the whole call; no rusage is asked for (NULL).
    match unsafe { libc::wait4(pid, &mut raw, flags, std::ptr::null_mut()) } {
        -1 => Err(Errno::last()),
        found => Ok((found, raw)),
    }
}

/// read(2) of one signalfd record, 128 bytes, from `fd`: the record as 32
/// words of 32 bits, `None` when the read returned fewer bytes. Errors as
/// read(2) gives them, EINTR included. The memory is not zeroed first,
/// which on every signal would cost more than the rest of the read: the
/// kernel fills it, and it is handed out only once it has.
#[inline(always)]
pub fn read_record(fd: BorrowedFd) -> nix::Result<Option<[u32; 32]>> {
    let mut record = std::mem::MaybeUninit::<[u32; 32]>::uninit();
    // SAFETY: read(2) writes at most the 128 bytes asked for into
    // `record`, which has room for 128, and reads nothing from it.
    match unsafe { read_raw(fd.as_raw_fd(), record.as_mut_ptr().cast(), 128) } {
        // SAFETY: read(2) said it wrote all 128 bytes.
        128 => Ok(Some(unsafe { record.assume_init() })),
        // The kernel's errors are -1 to -4095 (MAX_ERRNO).
        error @ -4095..=-1 => Err(Errno::from_raw(-(error as i32))),
        _ => Ok(None),
    }
}

// ANCHOR: read_raw
/// The read(2) system call itself, made with the processor's system call
/// instruction on x86_64 and aarch64: the bytes read, or minus the error
/// number. musl's read(3) is a thread-cancellation point: it goes through
/// the bookkeeping that pthread_cancel(3) needs and sets errno, which on
/// foster's loop cost more instructions than all of foster's own work for
/// a signal; foster cancels no thread. Elsewhere, the C library's read.
///
/// # Safety
/// `buf` must have room for `len` bytes, which the kernel may write.
#[inline(always)]
unsafe fn read_raw(fd: i32, buf: *mut u8, len: usize) -> isize {
    #[cfg(target_arch = "x86_64")]
    {
        let answer: isize;
        // SAFETY: the caller's buffer has room for `len` bytes. The
        // syscall instruction takes the call's number in rax and its
        // arguments in rdi, rsi and rdx, returns in rax, and overwrites
        // rcx and r11 (the x86_64 system call convention, syscall(2)).
        unsafe {
            std::arch::asm!(
                "syscall",
                inlateout("rax") libc::SYS_read as isize => answer,
                in("rdi") fd as isize,
                in("rsi") buf,
                in("rdx") len,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        answer
    }
    #[cfg(target_arch = "aarch64")]
    {
        let answer: isize;
        // SAFETY: as above; on aarch64 `svc 0` takes the number in x8 and
        // the arguments in x0 to x2, and returns in x0 (syscall(2)).
        unsafe {
            std::arch::asm!(
                "svc 0",
                in("x8") libc::SYS_read as isize,
                inlateout("x0") fd as isize => answer,
                in("x1") buf,
                in("x2") len,
                options(nostack),
            );
        }
        answer
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        // SAFETY: as above.
        match unsafe { libc::read(fd, buf.cast(), len) } {
            -1 => -(Errno::last() as isize),
            length => length,
        }
    }
}
// ANCHOR_END: read_raw

/// Descriptor 0, foster's stdin, borrowed without std's `stdin()`, which
/// would first set up the 8 KiB buffer of a reader foster never uses.
pub fn stdin() -> BorrowedFd<'static> {
    // SAFETY: as std's own `stdin().as_fd()`: descriptor 0 is never closed
    // by foster; if it was never open, calls on it fail with EBADF.
    unsafe { BorrowedFd::borrow_raw(0) }
}

/// waitid(2) on any child (P_ALL) with `flags`, once: the PID of the child
/// it reports, or 0 when there is none (with WNOHANG, nothing to report).
/// Errors as waitid(2) gives them, EINTR included.
pub fn waitid_any(flags: libc::c_int) -> nix::Result<i32> {
    // SAFETY: siginfo_t is plain old data, for which all zeros is valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid fills the siginfo_t that `info` points to, alive for
    // the call; P_ALL ignores the id.
    let result = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, flags) };
    Errno::result(result)?;
    // SAFETY: si_pid reads the field waitid wrote, or the 0 we put there:
    // with WNOHANG and no child to report, waitid(2) may leave it untouched.
    Ok(unsafe { info.si_pid() })
}

/// pidfd_open(2) for `pid`: a descriptor that stands for that process.
/// ESRCH: no such process; ENOSYS: a kernel older than 5.3. nix 0.32 has
/// no wrapper, and the C libraries have one only in recent versions.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a PID and flags (0) and returns a new file
    // descriptor or -1; it reads no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(Errno::result(fd)?).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel has just given us this descriptor, which nothing
    // else owns; OwnedFd closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// pidfd_send_signal(2): signal `number` to the process `pidfd` stands
/// for, as kill(2) would (the receiver sees SI_USER), or ESRCH once it has
/// been reaped.
pub fn pidfd_send_signal(pidfd: BorrowedFd, number: i32) -> Result<(), Errno> {
    // SAFETY: a descriptor the caller holds open, a signal number, no
    // siginfo (NULL, which the kernel reads as kill(2)'s) and no flags.
    let result = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            number,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    Errno::result(result).map(drop)
}

/// What the child needs between fork and exec, made in foster beforehand:
/// the child may not allocate.
pub struct ChildSetup {
    /// The signal mask foster found when it started.
    pub original_mask: SigSet,
    /// foster's stdin when it is a terminal.
    pub terminal: Option<OwnedFd>,
    /// `-u`: the user to become, last, just before exec.
    pub user: Option<ChildUser>,
}

/// IDs for setgroups(2), setgid(2) and setuid(2), in that order: each
/// needs the privilege the next one gives up.
pub struct ChildUser {
    pub uid: Uid,
    pub gid: Gid,
    pub groups: Vec<Gid>,
}

/// `program ARGS...` as a `Command` that runs
/// [`prepare_child`](foster::spawn::prepare_child) with `setup` in the
/// child, between fork and exec (std's `Command` forks, runs it, and
/// execs; if the exec fails, `spawn` returns that error to the parent).
pub fn command_with_setup(
    program: &OsString,
    args: &[OsString],
    // foster's own path for the type, also when a chapter compiles this
    // file as a program of its own (where `ChildSetup` is another type).
    setup: foster::sys::ChildSetup,
) -> Command {
    let mut child = Command::new(program);
    child.args(args);
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe calls are allowed (signal-safety(7)). It is this
    // one, fixed here: prepare_child makes only setpgid, sigprocmask,
    // tcsetpgrp, sigaction, setgroups, setgid and setuid calls, on data
    // prepared in the parent (`setup` moves in whole), reads an atomic,
    // and allocates nothing.
    unsafe {
        child.pre_exec(move || foster::spawn::prepare_child(&setup));
    }
    child
}

// ANCHOR: sigpipe
/// Rust's runtime sets SIGPIPE to "ignore" before `main` runs, and that
/// would hide whether foster's parent had ignored it. The C library runs
/// the functions listed in the ELF section `.init_array` before `main`,
/// and so before Rust's runtime: this one notes SIGPIPE's action (and
/// SIGXFSZ's) as the parent left it, for the command to inherit.
#[used]
#[link_section = ".init_array"]
static NOTE_ACTIONS_FIRST: extern "C" fn() = note_actions_first;

extern "C" fn note_actions_first() {
    foster::spawn::note_inherited_actions();
}
// ANCHOR_END: sigpipe
