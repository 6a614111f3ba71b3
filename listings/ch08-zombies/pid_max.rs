//! `pid-max`: the upper end of the PID range (`/proc/sys/kernel/pid_max`)
//! as the namespace the book is built in sees it, and as a fresh PID
//! namespace sees it. Since Linux 6.14 each PID namespace has a value of
//! its own; before, the file showed the one value of the whole machine.
//! Chapter 8 runs it and prints its markdown table.

use std::process::Command;

use orphans::capability;
use orphans::cli::{self, fail};
use orphans::process::spawn::sibling;
use orphans::table;

const USAGE: &str = "\
usage: pid-max

Prints a markdown table of /proc/sys/kernel/pid_max read here and read by
a process of a new PID namespace (the book's `container`), or one line
saying why the second could not be read.

  -V, --version  show the version
  -h, --help     show this help";

const PID_MAX: &str = "/proc/sys/kernel/pid_max";

// ANCHOR: main
fn main() {
    cli::options_or_exit("pid-max", USAGE, cli::no_options);
    let here = std::fs::read_to_string(PID_MAX)
        .unwrap_or_else(|e| fail("pid-max", 1, &format!("reading {PID_MAX}: {e}")));
    // The file answers for the PID namespace of the process that reads it
    // (the sysctl table of the reader's namespace, kernel/pid.c), so a
    // process in a new namespace reads that namespace's value.
    let fresh = capability::namespaces().map(|()| {
        let output = Command::new(sibling("container"))
            .args(["cat", PID_MAX])
            .output()
            .unwrap_or_else(|e| fail("pid-max", 1, &format!("running container: {e}")));
        if !output.status.success() {
            let why = String::from_utf8_lossy(&output.stderr);
            fail(
                "pid-max",
                1,
                &format!("container cat {PID_MAX}: {}", why.trim()),
            );
        }
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    });
    println!("{}", table::header(&["read by a process of", "`pid_max`"]));
    let here = here.trim();
    println!(
        "{}",
        table::row(&["the PID namespace that built this book", here])
    );
    match fresh {
        Ok(value) => println!(
            "{}",
            table::row(&["a new PID namespace, made for this table", &value])
        ),
        Err(missing) => println!("\n{}", missing.line("Reading it in a new PID namespace")),
    }
}
// ANCHOR_END: main
