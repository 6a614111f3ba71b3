//! `orphans-image`: builds the project's Docker image, `orphans:VERSION`,
//! from static builds of every binary of the package and Debian's static
//! busybox, `FROM scratch`; a no-op when nothing changed.

use std::path::PathBuf;

use orphans::cli::{fail, usage_error};
use orphans::image::ensure_image;

const USAGE: &str = "\
usage: orphans-image [--project DIR]

Builds static release builds of every binary of the package (in
DIR/target/image) and, from them and Debian's /bin/busybox (package
busybox-static), the Docker image orphans:VERSION, FROM scratch. The image
is rebuilt only when one of its files changed. Prints the image's name on
stdout; progress goes to stderr.

  --project DIR   the package's root (default: the one this tool was
                  built from)
  -h, --help      show this help";

fn main() {
    let project = parse_arguments();
    match ensure_image(&project) {
        Ok(image) => println!("{}", image.reference),
        Err(message) => fail("orphans-image", 1, &message),
    }
}

fn parse_arguments() -> PathBuf {
    use lexopt::prelude::*;
    let mut project = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut parser = lexopt::Parser::from_env();
    let bad = |error: &dyn std::fmt::Display| -> ! { usage_error("orphans-image", error, USAGE) };
    loop {
        match parser.next() {
            Ok(Some(Short('h') | Long("help"))) => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Ok(Some(Long("project"))) => match parser.value() {
                Ok(dir) => project = PathBuf::from(dir),
                Err(error) => bad(&error),
            },
            Ok(Some(other)) => bad(&other.unexpected()),
            Ok(None) => break,
            Err(error) => bad(&error),
        }
    }
    if !project.join("Cargo.toml").is_file() {
        bad(&format!("{} has no Cargo.toml", project.display()));
    }
    project
}
