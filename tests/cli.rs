//! Every program of the book reads its command line the same way
//! (`orphans::cli::options_or_exit`): help and version on stdout with
//! status 0, and a usage error (the message, then the usage) on stderr with
//! status 2. What each program accepts or refuses is for the unit tests of
//! its own `parse`.

mod common;

use common::run;

/// The book's programs; not foster, which has tests of its own, nor (yet)
/// initbench, whose command line chapter 12's rework is changing.
const PROGRAMS: [(&str, &str); 22] = [
    ("probe", env!("CARGO_BIN_EXE_probe")),
    ("container", env!("CARGO_BIN_EXE_container")),
    ("docker-probe", env!("CARGO_BIN_EXE_docker-probe")),
    ("orphans-image", env!("CARGO_BIN_EXE_orphans-image")),
    ("subreaper", env!("CARGO_BIN_EXE_subreaper")),
    ("orphan-maker", env!("CARGO_BIN_EXE_orphan-maker")),
    ("naive-init", env!("CARGO_BIN_EXE_naive-init")),
    ("zombie-table", env!("CARGO_BIN_EXE_zombie-table")),
    ("worker", env!("CARGO_BIN_EXE_worker")),
    ("stopper", env!("CARGO_BIN_EXE_stopper")),
    ("stop-table", env!("CARGO_BIN_EXE_stop-table")),
    ("pid-max", env!("CARGO_BIN_EXE_pid-max")),
    ("app", env!("CARGO_BIN_EXE_app")),
    ("pid1-table", env!("CARGO_BIN_EXE_pid1-table")),
    ("pause", env!("CARGO_BIN_EXE_pause")),
    ("census", env!("CARGO_BIN_EXE_census")),
    ("pod-table", env!("CARGO_BIN_EXE_pod-table")),
    ("cgroup-table", env!("CARGO_BIN_EXE_cgroup-table")),
    ("runtime-table", env!("CARGO_BIN_EXE_runtime-table")),
    ("pid1-doctor", env!("CARGO_BIN_EXE_pid1-doctor")),
    ("doctor-table", env!("CARGO_BIN_EXE_doctor-table")),
    ("experiment", env!("CARGO_BIN_EXE_experiment")),
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `text` starts with the usage line of `name`: `usage: NAME`, then
/// its arguments, or the end of the line for a program that takes none.
fn starts_with_usage(text: &str, name: &str) -> bool {
    text.strip_prefix(&format!("usage: {name}"))
        .is_some_and(|rest| rest.starts_with([' ', '\n']))
}

#[test]
fn help_is_the_usage_on_stdout() {
    for (name, path) in PROGRAMS {
        for flag in ["-h", "--help"] {
            let output = run(path, &[flag]);
            assert_eq!(output.status.code(), Some(0), "{name} {flag}");
            let stdout = text(&output.stdout);
            assert!(starts_with_usage(&stdout, name), "{name} {flag}: {stdout}");
            assert!(output.stderr.is_empty(), "{name} {flag}");
        }
    }
}

#[test]
fn version_is_one_line_on_stdout() {
    let expected = |name| format!("{name} version {}\n", env!("CARGO_PKG_VERSION"));
    for (name, path) in PROGRAMS {
        for flag in ["-V", "--version"] {
            let output = run(path, &[flag]);
            assert_eq!(output.status.code(), Some(0), "{name} {flag}");
            assert_eq!(text(&output.stdout), expected(name), "{name} {flag}");
        }
    }
}

#[test]
fn a_bad_option_is_a_usage_error_with_status_2() {
    for (name, path) in PROGRAMS {
        let output = run(path, &["--bogus"]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with(&format!("{name}: ")) && stderr.contains("--bogus"),
            "{name}: {stderr}"
        );
        // One line of message, then the usage.
        assert!(
            stderr
                .split_once('\n')
                .is_some_and(|(_, usage)| starts_with_usage(usage, name)),
            "{name}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{name}: nothing on stdout");
    }
}
