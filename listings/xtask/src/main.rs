//! `cargo xtask`: the project's release chores as a Rust program of the
//! workspace (the cargo-xtask convention: `.cargo/config.toml` makes
//! `cargo xtask …` mean `cargo run -q -p xtask -- …`), so that they need
//! nothing but cargo and run the same on every machine.

mod changelog;
mod deb;
mod dist;
mod man;
mod oci;
mod package;
mod rpm;
mod sums;
mod tools;

use std::io::Write;
use std::process::exit;

const USAGE: &str = "\
usage: cargo xtask dist [--no-image]

Builds foster's release files into the dist/ folder of cargo's target
directory: foster-VERSION-x86_64-linux-musl and
foster-VERSION-aarch64-linux-musl (static, stripped, at most 700000 bytes
each), the man page foster.1 (made from foster --help), the packages
foster_VERSION_amd64.deb, foster_VERSION_arm64.deb,
foster-VERSION-1.x86_64.rpm and foster-VERSION-1.aarch64.rpm, the image
index foster:VERSION for linux/amd64 and linux/arm64 (FROM scratch, only
/foster) as the OCI archive foster-VERSION-oci.tar, and SHA256SUMS for them
all. When a Docker engine answers, it gets this machine's platform of the
image as foster:VERSION, for a Dockerfile's COPY --from. Progress goes to
stderr; the folder's path is printed on stdout. VERSION is foster's, from
listings/foster/Cargo.toml; listings/foster/CHANGELOG.md must have a
section for it.

  --no-image   do not build the image index (no buildah or skopeo needed)
  -h, --help   show this help

Needs rustup's targets x86_64-unknown-linux-musl and
aarch64-unknown-linux-musl, a cross linker for the one that is not this
machine's (apt-get install gcc-aarch64-linux-gnu, or gcc-x86-64-linux-gnu
on arm64), dpkg-deb and rpmbuild (apt-get install rpm), and buildah and
skopeo for the image. .ci/check-dist checks the result: checksums, man
page, packages (lintian, rpm, a real install), the image in Podman and
Docker, the arm64 build under qemu.";

/// Exit status for a command line that cannot be understood.
const USAGE_ERROR: i32 = 2;

fn main() {
    let options = match parse(std::env::args_os().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            // A closed pipe (`--help | head`) is no error: no panic.
            let _ = writeln!(std::io::stdout(), "{USAGE}");
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
