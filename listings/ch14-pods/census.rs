//! `census`: prints every process of its PID namespace (but itself) as a
//! JSON array: PID, parent PID, state, command name and command line. The
//! table tools of chapters 14 and 15 run it inside containers.

use orphans::cli;
use orphans::namespace::census::{gather, to_json};

const USAGE: &str = "\
usage: census

Prints every process of this PID namespace but itself, from /proc, as a
JSON array of {pid, ppid, state, comm, args}. A parent PID of 0 means the
parent is outside the namespace.

  -V, --version  show the version
  -h, --help     show this help";

fn main() {
    cli::options_or_exit("census", USAGE, cli::no_options);
    println!("{}", to_json(&gather()));
}
