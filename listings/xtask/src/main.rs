//! `cargo xtask`: the project's release chores as a Rust program of the
//! workspace (the cargo-xtask convention: `.cargo/config.toml` makes
//! `cargo xtask …` mean `cargo run -q -p xtask -- …`), so that they need
//! nothing but cargo and run the same on every machine.

mod dist;
mod man;
mod sums;

use std::process::exit;

const USAGE: &str = "\
usage: cargo xtask dist [--no-image]

Builds foster's release files into the dist/ folder of cargo's target
directory: foster-VERSION-x86_64-linux-musl and
foster-VERSION-aarch64-linux-musl (static, stripped, at most 700000 bytes
each), the man page foster.1 (made from foster --help), SHA256SUMS for
them, and the Docker image foster:VERSION (FROM scratch, only /foster) for
a Dockerfile's COPY --from. Progress goes to stderr; the folder's path is
printed on stdout.

  --no-image   do not build the image (no Docker engine needed)
  -h, --help   show this help

Needs rustup's targets x86_64-unknown-linux-musl and
aarch64-unknown-linux-musl, a cross linker for the one that is not this
machine's (apt-get install gcc-aarch64-linux-gnu, or gcc-x86-64-linux-gnu
on arm64), and a Docker engine for the image. .ci/check-dist checks the
result: checksums, man page, the image, the arm64 build under qemu.";

/// Exit status for a command line that cannot be understood.
const USAGE_ERROR: i32 = 2;

fn main() {
    let options = match parse(std::env::args_os().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(message) => {
            let usage = USAGE.lines().next().unwrap_or_default();
            eprintln!("xtask: {message}\n{usage} (cargo xtask --help says more)");
            exit(USAGE_ERROR)
        }
    };
    match dist::dist(&options) {
        Ok(folder) => println!("{}", folder.display()),
        Err(message) => {
            eprintln!("xtask: error: {message}");
            exit(1)
        }
    }
}

/// The options of `dist`, or `None` for `--help`.
fn parse(args: impl Iterator<Item = std::ffi::OsString>) -> Result<Option<dist::Options>, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut task = None;
    let mut options = dist::Options { image: true };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("no-image") => options.image = false,
            Value(name) if task.is_none() => task = Some(name),
            other => return Err(other.unexpected().to_string()),
        }
    }
    match task {
        Some(name) if name == "dist" => Ok(Some(options)),
        Some(name) => Err(format!(
            "no task '{}' (the one task is dist)",
            name.to_string_lossy()
        )),
        None => Err("which task? (the one task is dist)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Option<dist::Options>, String> {
        parse(words.iter().map(Into::into))
    }

    #[test]
    fn command_line() {
        assert!(parse_words(&["dist"]).is_ok_and(|o| o.is_some_and(|o| o.image)));
        assert!(parse_words(&["dist", "--no-image"]).is_ok_and(|o| o.is_some_and(|o| !o.image)));
        assert!(parse_words(&["--help"]).is_ok_and(|o| o.is_none()));
        for bad in [
            &[][..],
            &["release"],
            &["dist", "--image"],
            &["dist", "dist"],
        ] {
            assert!(parse_words(bad).is_err(), "{bad:?}");
        }
    }
}
