//! `foster_VERSION_ARCH.deb`: the files laid out in a folder with their
//! `DEBIAN/control` and `DEBIAN/md5sums`, packed by `dpkg-deb --build`
//! (deb(5), deb-control(5), Debian policy chapters 5 and 12).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::changelog;
use crate::dist::{fresh_folder, run, write, Target};
use crate::package::{gzip, lay_out, Contents};

const DOC: &str = "usr/share/doc/foster";

/// lintian's overrides (lintian(1), "Overrides"): a static binary is what
/// an init for `FROM scratch` images must be. Which tag fires depends on
/// the ELF type rustc chose: a static executable (aarch64) is
/// statically-linked-binary; a static PIE (x86_64), which is of the shared
/// object type, is a shared library without its libraries. Each
/// package's unused line is an "unused-override" note.
const LINTIAN_OVERRIDES: &str = "\
# foster is an init for empty images (FROM scratch): it is static on purpose.
statically-linked-binary [usr/bin/foster]
# A static PIE, which has the ELF type of a shared library: static on purpose.
shared-library-lacks-prerequisites [usr/bin/foster]
";

/// Builds the package for `target` in `work` and writes it into `dist`;
/// returns the file's name.
pub fn build(
    contents: &Contents,
    target: &Target,
    binary: &[u8],
    work: &Path,
    dist: &Path,
) -> Result<String, String> {
    contents.check_changelog()?;
    let root = work.join(format!("deb-{}", target.debian_arch));
    fresh_folder(&root)?;
    let changelog = changelog::debian(contents.name, contents.maintainer, contents.changelog);
    let files = contents.files(
        binary,
        vec![
            (format!("{DOC}/copyright"), copyright(contents).into_bytes()),
            (format!("{DOC}/changelog.gz"), gzip(changelog.as_bytes())?),
            (
                "usr/share/lintian/overrides/foster".to_string(),
                LINTIAN_OVERRIDES.as_bytes().to_vec(),
            ),
        ],
    )?;
    lay_out(&root, &files)?;
    let control_folder = root.join("DEBIAN");
    fs::create_dir(&control_folder).map_err(|e| format!("creating DEBIAN: {e}"))?;
    let size: u64 = files.iter().map(|file| kibibytes(file.bytes.len())).sum();
    let folders = folders_of(files.iter().map(|file| file.path.as_str()));
    let control = control(contents, target, size + folders.len() as u64);
    write(&control_folder.join("control"), control.as_bytes(), 0o644)?;
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    write(
        &control_folder.join("md5sums"),
        &md5sums(&root, &paths)?,
        0o644,
    )?;

    let name = format!(
        "{}_{}_{}.deb",
        contents.name, contents.version, target.debian_arch
    );
    run(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&root)
            .arg(dist.join(&name))
            .env("SOURCE_DATE_EPOCH", contents.epoch.to_string())
            .stdout(std::process::Stdio::null()),
        &format!("dpkg-deb --build for {}", target.debian_arch),
    )?;
    Ok(name)
}

/// Installed-Size, as dpkg-gencontrol(1) counts it: each file's size in
/// KiB, rounded up, and one KiB per folder.
fn kibibytes(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(1024)
}

/// Every folder above the given paths (`usr`, `usr/bin`, ...), once.
fn folders_of<'a>(paths: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut folders = Vec::new();
    for path in paths {
        let mut prefix = String::new();
        for part in path
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, rest)| rest)
        {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix += part;
            if !folders.contains(&prefix) {
                folders.push(prefix.clone());
            }
        }
    }
    folders
}

/// `DEBIAN/control`. No Depends: the binary is static. The synopsis is
/// the summary without its article, as Debian's developer reference
/// (6.2.2) asks.
fn control(contents: &Contents, target: &Target, installed_kib: u64) -> String {
    let summary = contents.summary();
    let synopsis = summary
        .strip_prefix("A ")
        .or_else(|| summary.strip_prefix("An "))
        .unwrap_or(summary);
    format!(
        "Package: {}\nVersion: {}\nArchitecture: {}\nMaintainer: {}\nInstalled-Size: {installed_kib}\n\
         Section: admin\nPriority: optional\nHomepage: {}\nDescription: {synopsis}\n{}",
        contents.name,
        contents.version,
        target.debian_arch,
        contents.maintainer,
        contents.homepage,
        extended(&contents.long_description())
    )
}

/// A control file's continuation lines: each starts with a space.
fn extended(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 78 {
            out += &format!(" {line}\n");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line += word;
    }
    out + &format!(" {line}\n")
}

/// `/usr/share/doc/foster/copyright` in Debian's machine-readable format
/// (copyright-format 1.0): the MIT text whole, Apache-2.0 by its path in
/// common-licenses, as policy 12.5 allows.
fn copyright(contents: &Contents) -> String {
    let mit: String = contents
        .license_mit
        .lines()
        .map(|line| {
            if line.is_empty() {
                " .\n".to_string()
            } else {
                format!(" {line}\n")
            }
        })
        .collect();
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: {}\nSource: {}\n\n\
         Files: *\nCopyright: {}\nLicense: {}\n\n\
         License: MIT\n{mit}\n\
         License: Apache-2.0\n On Debian systems, the complete text of the Apache License 2.0\n \
         can be found in /usr/share/common-licenses/Apache-2.0.\n",
        contents.name,
        contents.homepage,
        contents.copyright,
        contents.license.replace(" OR ", " or ")
    )
}

/// `md5sum PATHS` run in `root`: the format `DEBIAN/md5sums` has.
fn md5sums(root: &Path, paths: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("md5sum")
        .args(paths)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run md5sum: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!("md5sum failed ({})", output.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::TARGETS;
    use crate::package::tests::{contents, releases};

    #[test]
    fn control_file() {
        let releases = releases();
        let text = control(&contents(&releases), &TARGETS[1], 42);
        assert!(text.starts_with("Package: foster\nVersion: 1.2.3\nArchitecture: arm64\n"));
        assert!(text.contains("\nInstalled-Size: 42\n"));
        assert!(text.contains("\nDescription: small init\n A small init: it reaps. It is"));
        assert!(!text.contains("Depends"));
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
        assert!(text.lines().all(|line| line.len() <= 80));
    }

    #[test]
    fn copyright_file() {
        let releases = releases();
        let text = copyright(&contents(&releases));
        assert!(text.contains("\nFiles: *\nCopyright: 2024 Someone\nLicense: MIT or Apache-2.0\n"));
        assert!(text.contains("\nLicense: MIT\n MIT License\n .\n Copyright (c) 2024 Someone\n"));
        assert!(text.contains("/usr/share/common-licenses/Apache-2.0"));
    }

    #[test]
    fn folders_and_sizes() {
        let folders = folders_of(["usr/bin/foster", "usr/share/doc/foster/copyright"].into_iter());
        assert_eq!(
            folders,
            [
                "usr",
                "usr/bin",
                "usr/share",
                "usr/share/doc",
                "usr/share/doc/foster"
            ]
        );
        assert_eq!(
            (kibibytes(0), kibibytes(1), kibibytes(1024), kibibytes(1025)),
            (0, 1, 1, 2)
        );
    }
}
