//! `endpoint-race`: the race between a stop and the load balancer, and
//! foster's `--stop-delay` against it. A small server runs under foster;
//! a client sends it a request every few milliseconds; at time zero foster
//! gets SIGTERM, as the kubelet sends it, and the client goes on sending
//! for the lag (the time the endpoint's removal takes to reach it), then
//! stops. For each stop delay, one row: how many of those requests the
//! server answered, and how long after foster the server got SIGTERM.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::time::{clock_gettime, ClockId};
use nix::unistd::Pid;
use orphans::cli::{self, fail, Request};

const USAGE: &str = "\
usage: endpoint-race [--lag MS] [DELAY...]

Runs `foster [--stop-delay DELAY] -- endpoint-race serve SOCKET` once per
DELAY (default: 0 500ms 2s), sends foster SIGTERM while a client sends a
request every 10 ms, and keeps the client sending for the lag (default
1000 ms, at most 10000) after it. Prints a markdown table: the requests
sent after SIGTERM, how many the server answered, and when it got SIGTERM.

  --lag MS       how long the client goes on sending after SIGTERM
  -V, --version  show the version
  -h, --help     show this help";

/// The client's pace: one request per period.
const PERIOD: Duration = Duration::from_millis(10);

#[derive(Debug, PartialEq)]
struct Options {
    lag: Duration,
    delays: Vec<String>,
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() == Some(std::ffi::OsStr::new("serve")) {
        let socket = args
            .next()
            .unwrap_or_else(|| fail("endpoint-race", 2, &"serve SOCKET"));
        return serve(Path::new(&socket));
    }
    let options = cli::options_or_exit("endpoint-race", USAGE, parse);
    println!(
        "| foster | requests after SIGTERM | answered | refused | the server got SIGTERM after |"
    );
    println!("|---|---|---|---|---|");
    for delay in &options.delays {
        let row = race(delay, options.lag);
        let flag = if delay == "0" {
            String::new()
        } else {
            format!("--stop-delay {delay} ")
        };
        println!(
            "| `foster {flag}-- server` | {} | {} | {} | {:.2} s |",
            row.sent,
            row.answered,
            row.sent - row.answered,
            row.term_after.as_secs_f64()
        );
    }
    println!(
        "\nThe client went on sending for {:.1} s after SIGTERM.",
        options.lag.as_secs_f64()
    );
}

// ANCHOR: race
/// What one stop did to the requests sent after SIGTERM.
struct Row {
    sent: usize,
    answered: usize,
    /// From foster's SIGTERM to the server's.
    term_after: Duration,
}

/// One stop of `foster --stop-delay DELAY -- endpoint-race serve SOCKET`.
fn race(delay: &str, lag: Duration) -> Row {
    let socket = std::env::temp_dir().join(format!("endpoint-race-{}-{delay}", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    let me = std::env::current_exe().unwrap_or_else(|e| fail("endpoint-race", 1, &e));
    let mut foster = Command::new("foster")
        .args(["--stop-delay", delay, "--"])
        .arg(&me)
        .arg("serve")
        .arg(&socket)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail("endpoint-race", 1, &format!("foster: {e}")));
    let Some(stdout) = foster.stdout.take() else {
        fail("endpoint-race", 1, &"no pipe from the server")
    };
    let mut server = BufReader::new(stdout);
    expect_line(&mut server, "ready");
    let pid = Pid::from_raw(foster.id() as i32);
    let sent_at = now();
    kill(pid, Signal::SIGTERM).unwrap_or_else(|e| fail("endpoint-race", 1, &e));
    let (mut sent, mut answered) = (0, 0);
    while now().saturating_sub(sent_at) < lag {
        sent += 1;
        answered += usize::from(request(&socket));
        std::thread::sleep(PERIOD);
    }
    let term_at = expect_line(&mut server, "term ");
    let _ = foster.wait();
    let _ = std::fs::remove_file(&socket);
    let term_at = Duration::from_nanos(term_at.trim().parse().unwrap_or(0));
    Row {
        sent,
        answered,
        term_after: term_at.saturating_sub(sent_at),
    }
}

/// One request: true if the server answered it.
fn request(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = String::new();
    stream.read_to_string(&mut answer).is_ok() && answer == "ok\n"
}
// ANCHOR_END: race

/// The server: answers `ok` to every connection until SIGTERM, then says
/// when SIGTERM came (CLOCK_MONOTONIC, nanoseconds) and exits at once, as
/// a server that stops without draining would.
fn serve(socket: &Path) {
    let mut term = SigSet::empty();
    term.add(Signal::SIGTERM);
    let signals = term
        .thread_block()
        .and_then(|()| SignalFd::with_flags(&term, SfdFlags::SFD_CLOEXEC))
        .unwrap_or_else(|e| fail("endpoint-race", 1, &e));
    let listener = UnixListener::bind(socket).unwrap_or_else(|e| fail("endpoint-race", 1, &e));
    println!("ready");
    loop {
        let mut fds = [
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
        ];
        if poll(&mut fds, PollTimeout::from(60_000u16)).unwrap_or(0) == 0 {
            return;
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| r.contains(PollFlags::POLLIN));
        if ready(&fds[0]) {
            println!("term {}", now().as_nanos());
            let _ = std::io::stdout().flush();
            return;
        }
        if ready(&fds[1]) {
            if let Ok((mut client, _)) = listener.accept() {
                let _ = client.write_all(b"ok\n");
            }
        }
    }
}

/// CLOCK_MONOTONIC, which two processes of one machine share.
fn now() -> Duration {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(Duration::from)
        .unwrap_or_default()
}

/// Reads lines from the server until one starts with `prefix`; the rest.
fn expect_line(server: &mut impl BufRead, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        match server.read_line(&mut line) {
            Ok(0) | Err(_) => fail(
                "endpoint-race",
                1,
                &format!("the server ended before '{prefix}'"),
            ),
            Ok(_) => {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return rest.to_string();
                }
            }
        }
    }
}

fn parse(args: Vec<OsString>) -> Result<Request<Options>, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        lag: Duration::from_millis(1000),
        delays: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("lag") => {
                let ms = orphans::cli::bounds::count(parser.value(), 0, 10_000)?;
                options.lag = Duration::from_millis(u64::from(ms));
            }
            Value(delay) => {
                let delay = delay.into_string().map_err(|_| "a delay is not UTF-8")?;
                foster::options::duration(&delay)?;
                options.delays.push(delay);
            }
            other => return cli::other(other),
        }
    }
    if options.delays.is_empty() {
        options.delays = ["0", "500ms", "2s"].map(String::from).to_vec();
    }
    Ok(Request::Run(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, refusal};

    #[test]
    fn delays_and_lag_within_bounds() {
        let options = |args: &[&str]| match orphans::cli::testing::parse_str(parse, args) {
            Ok(Request::Run(options)) => (options.lag, options.delays),
            _ => panic!("{args:?}"),
        };
        assert_eq!(options(&[]).1, ["0", "500ms", "2s"]);
        assert_eq!(
            options(&["--lag", "300", "1s"]),
            (Duration::from_millis(300), vec!["1s".into()])
        );
        help_and_version(parse);
        assert!(refusal(parse, &["--lag", "20000"]).contains("10000"));
        assert!(refusal(parse, &["soon"]).contains("duration"));
    }
}
