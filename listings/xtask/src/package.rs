//! What the Debian and RPM packages hold and say, whatever the format:
//! the files, the texts about foster, and the compression both formats
//! expect for the man page and the changelog.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::changelog::Release;
use crate::dist::write;

/// Everything a package needs but the binary, which differs per target.
pub struct Contents<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// Cargo's `description` of foster: a clause, a colon, the rest.
    pub description: &'a str,
    /// `Name <address>`, from `[package.metadata.dist]` of foster.
    pub maintainer: &'a str,
    pub homepage: &'a str,
    /// SPDX, as Cargo.toml says it (`MIT OR Apache-2.0`).
    pub license: &'a str,
    /// The copyright line of `LICENSE-MIT`, without `Copyright (c) `.
    pub copyright: &'a str,
    pub license_mit: &'a str,
    pub license_apache: &'a str,
    pub changelog: &'a [Release],
    /// The roff text of `foster.1`.
    pub man_page: &'a str,
    /// `SOURCE_DATE_EPOCH` for the tools: the release's day.
    pub epoch: i64,
}

/// Why a static binary needs nothing else: the packages' long
/// description, after Cargo's.
const STATIC_NOTE: &str = "It is statically linked (musl): it needs nothing from the system \
or the image it runs in, so the package depends on nothing.";

/// Where the files go, the same in both formats (the FHS paths).
pub const BINARY_PATH: &str = "usr/bin/foster";
pub const MAN_PATH: &str = "usr/share/man/man1/foster.1.gz";

impl Contents<'_> {
    /// The clause before the description's colon: "A small, static init
    /// for containers".
    pub fn summary(&self) -> &str {
        self.description
            .split_once(':')
            .map_or(self.description, |(clause, _)| clause)
            .trim()
    }

    /// The long description: Cargo's, then why there are no dependencies.
    pub fn long_description(&self) -> String {
        format!("{}. {STATIC_NOTE}", self.description.trim_end_matches('.'))
    }

    /// The newest release in the changelog must be this version: a package
    /// whose changelog stops at an older one would describe another program.
    pub fn check_changelog(&self) -> Result<&Release, String> {
        match self.changelog.first() {
            Some(newest) if newest.version == self.version => Ok(newest),
            newest => Err(format!(
                "listings/foster/CHANGELOG.md has no section for foster {} (its newest is {}): \
                 add `## {} (YYYY-MM-DD)` with the release's changes on top",
                self.version,
                newest.map_or("none", |release| release.version.as_str()),
                self.version
            )),
        }
    }
}

/// A file a package installs: its path under `/` (without the first
/// slash), its bytes and its mode.
pub struct File {
    pub path: String,
    pub bytes: Vec<u8>,
    pub mode: u32,
}

impl Contents<'_> {
    /// The files of a package for `binary`: the binary and its man page,
    /// which both formats install alike, then `texts` (path, text), each
    /// 0644.
    pub fn files(&self, binary: &[u8], texts: Vec<(String, Vec<u8>)>) -> Result<Vec<File>, String> {
        let mut files = vec![
            File {
                path: BINARY_PATH.to_string(),
                bytes: binary.to_vec(),
                mode: 0o755,
            },
            File {
                path: MAN_PATH.to_string(),
                bytes: gzip(self.man_page.as_bytes())?,
                mode: 0o644,
            },
        ];
        files.extend(texts.into_iter().map(|(path, bytes)| File {
            path,
            bytes,
            mode: 0o644,
        }));
        Ok(files)
    }
}

/// Writes `files` under `root`, and the folders above them, each 0755
/// whatever the umask (lintian: non-standard-dir-perm).
pub fn lay_out(root: &Path, files: &[File]) -> Result<(), String> {
    fs::create_dir_all(root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    for file in files {
        let path = root.join(&file.path);
        let mut folder = root.to_path_buf();
        for part in Path::new(&file.path)
            .parent()
            .into_iter()
            .flat_map(Path::components)
        {
            folder.push(part);
            if !folder.exists() {
                fs::create_dir(&folder)
                    .and_then(|()| fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)))
                    .map_err(|e| format!("creating {}: {e}", folder.display()))?;
            }
        }
        write(&path, &file.bytes, file.mode)?;
    }
    Ok(())
}

/// `gzip -9n`: the best compression, no name or time stamp in the header,
/// as Debian policy (12.1, 12.7) asks for man pages and changelogs.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new("gzip")
        .arg("-9n")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    // A thread writes while this one reads: gzip's output could fill the
    // pipe before it has read all of its input.
    let mut stdin = child.stdin.take().ok_or("gzip has no stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().map_err(|e| format!("gzip: {e}"))?;
    let written = writer.join().map_err(|_| "gzip's writer panicked")?;
    written.map_err(|e| format!("writing to gzip: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!("gzip failed ({})", output.status))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::changelog;

    pub fn releases() -> Vec<Release> {
        changelog::parse("## 1.2.3 (2024-02-29)\n- Something.\n").unwrap()
    }

    pub fn contents(releases: &[Release]) -> Contents<'_> {
        Contents {
            name: "foster",
            version: "1.2.3",
            description: "A small init: it reaps",
            maintainer: "M <m@example.org>",
            homepage: "https://example.org/foster",
            license: "MIT OR Apache-2.0",
            copyright: "2024 Someone",
            license_mit:
                "MIT License\n\nCopyright (c) 2024 Someone\n\nPermission is hereby granted.\n",
            license_apache: "Apache License\n",
            changelog: releases,
            man_page: ".TH FOSTER 1\n",
            epoch: 0,
        }
    }

    #[test]
    fn texts() {
        let releases = releases();
        let contents = contents(&releases);
        assert_eq!(contents.summary(), "A small init");
        assert!(contents
            .long_description()
            .starts_with("A small init: it reaps. It is static"));
        assert!(contents.check_changelog().is_ok());
        let older = Contents {
            version: "1.3.0",
            ..contents
        };
        let error = older.check_changelog().unwrap_err();
        assert!(
            error.contains("no section for foster 1.3.0 (its newest is 1.2.3)"),
            "{error}"
        );
    }

    #[test]
    fn gzip_round_trip_without_a_time_stamp() {
        let text = "line\n".repeat(50_000);
        let packed = gzip(text.as_bytes()).unwrap();
        assert_eq!(&packed[..2], &[0x1f, 0x8b]);
        assert_eq!(&packed[4..8], &[0, 0, 0, 0], "MTIME must be 0 (-n)");
        let mut unpack = Command::new("gzip")
            .arg("-dc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        unpack.stdin.take().unwrap().write_all(&packed).unwrap();
        assert_eq!(unpack.wait_with_output().unwrap().stdout, text.as_bytes());
    }
}
