//! `census`: prints every process of its PID namespace (but itself) as a
//! JSON array: PID, parent PID, state, command name and command line. The
//! table tools of chapters 14 and 15 run it inside containers.

use orphans::census::{gather, to_json};
use orphans::cli::{help, usage_error};

const USAGE: &str = "\
usage: census

Prints every process of this PID namespace but itself, from /proc, as a
JSON array of {pid, ppid, state, comm, args}. A parent PID of 0 means the
parent is outside the namespace.

  -h, --help  show this help";

fn main() {
    match std::env::args().nth(1).as_deref() {
        None => println!("{}", to_json(&gather())),
        Some("-h" | "--help") => help(USAGE),
        Some(other) => usage_error("census", &format!("unexpected argument '{other}'"), USAGE),
    }
}
