//! `orphans-image`: builds the project's Docker image, `orphans:VERSION`,
//! from static builds of every binary of the package and Debian's static
//! busybox, `FROM scratch`; a no-op when nothing changed.

use std::ffi::OsString;
use std::path::PathBuf;

use orphans::cli::{self, fail, usage_error, Request};
use orphans::containers::image::ensure_image;

const USAGE: &str = "\
usage: orphans-image [--project DIR]

Builds static release builds of every binary of the package (in
DIR/target/image) and, from them and Debian's /bin/busybox (package
busybox-static), the Docker image orphans:VERSION, FROM scratch. The image
is rebuilt only when one of its files changed. Prints the image's name on
stdout; progress goes to stderr.

  --project DIR   the package's root (default: the one this tool was
                  built from)
  -V, --version   show the version
  -h, --help      show this help";

fn main() {
    let project = cli::options_or_exit("orphans-image", USAGE, parse);
    if !project.join("Cargo.toml").is_file() {
        let message = format!("{} has no Cargo.toml", project.display());
        usage_error("orphans-image", &message, USAGE);
    }
    match ensure_image(&project) {
        Ok(image) => println!("{}", image.reference),
        Err(message) => fail("orphans-image", 1, &message),
    }
}

/// The project's root: `--project DIR`, or the one this tool was built
/// from.
fn parse(args: Vec<OsString>) -> Result<Request<PathBuf>, String> {
    use lexopt::prelude::*;
    let mut project = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(cli::error)? {
        match arg {
            Long("project") => project = PathBuf::from(parser.value().map_err(cli::error)?),
            other => return cli::other(other),
        }
    }
    Ok(Request::Run(project))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orphans::cli::testing::{help_and_version, options, refusal};

    #[test]
    fn the_project_is_ours_unless_named() {
        assert_eq!(
            options(parse, &[]),
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        );
        assert_eq!(options(parse, &["--project", "/p"]), PathBuf::from("/p"));
        help_and_version(parse);
        assert!(refusal(parse, &["--project"]).contains("missing argument"));
        assert!(refusal(parse, &["/p"]).contains("unexpected"));
    }
}
