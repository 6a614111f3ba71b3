//! `foster-VERSION-1.ARCH.rpm`: a spec file whose `%install` copies the
//! files laid out here, built by `rpmbuild -bb --target ARCH` (nothing is
//! compiled, so one machine builds both architectures). The spec turns
//! off what rpmbuild would do to a binary it built itself (strip, debug
//! packages, build-id links) and the dependency generator: the binary is
//! static and stripped already.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::changelog;
use crate::dist::{fresh_folder, run, write, Target};
use crate::package::{lay_out, Contents, BINARY_PATH, MAN_PATH};

/// The package's release number (the `1` of `foster-0.1.0-1`): the first
/// packaging of each version.
const RELEASE: u32 = 1;
const LICENSES: &str = "usr/share/licenses/foster";

/// Builds the package for `target` in `work` and moves it into `dist`;
/// returns the file's name.
pub fn build(
    contents: &Contents,
    target: &Target,
    binary: &[u8],
    work: &Path,
    dist: &Path,
) -> Result<String, String> {
    contents.check_changelog()?;
    let top = work.join(format!("rpm-{}", target.arch));
    fresh_folder(&top)?;
    let payload = top.join("payload");
    let files = contents.files(
        binary,
        vec![
            (
                format!("{LICENSES}/LICENSE-MIT"),
                contents.license_mit.as_bytes().to_vec(),
            ),
            (
                format!("{LICENSES}/LICENSE-APACHE"),
                contents.license_apache.as_bytes().to_vec(),
            ),
        ],
    )?;
    lay_out(&payload, &files)?;
    let spec_path = top.join("foster.spec");
    write(&spec_path, spec(contents).as_bytes(), 0o644)?;

    let define = |name: &str, value: &str| ["--define".to_string(), format!("{name} {value}")];
    let top_text = top.display().to_string();
    run(
        Command::new("rpmbuild")
            .args([
                "-bb",
                "--quiet",
                "--target",
                &format!("{}-linux", target.arch),
            ])
            .args(define("_topdir", &top_text))
            .args(define("_tmppath", &format!("{top_text}/tmp")))
            .args(define("payload", &payload.display().to_string()))
            // The release's day as the build time and the files' latest
            // time, and no host name: the same package from every machine.
            .args(define("use_source_date_epoch_as_buildtime", "1"))
            .args(define("clamp_mtime_to_source_date_epoch", "1"))
            .args(define("_buildhost", "localhost"))
            .env("SOURCE_DATE_EPOCH", contents.epoch.to_string())
            .arg(&spec_path)
            .stdout(Stdio::null()),
        &format!("rpmbuild for {}", target.arch),
    )?;
    let name = format!(
        "{}-{}-{RELEASE}.{}.rpm",
        contents.name, contents.version, target.arch
    );
    let built = top.join("RPMS").join(target.arch).join(&name);
    fs::rename(&built, dist.join(&name))
        .map_err(|e| format!("moving {} into {}: {e}", built.display(), dist.display()))?;
    Ok(name)
}

/// The spec file (rpm's spec format, as in `rpmbuild --help`'s manual):
/// `%{payload}` is the folder of files, defined on rpmbuild's command line.
fn spec(contents: &Contents) -> String {
    format!(
        "Name: {name}\nVersion: {version}\nRelease: {RELEASE}\nSummary: {summary}\n\
         License: {license}\nURL: {homepage}\nPackager: {maintainer}\n\
         # Static: no dependencies to find (rpm adds only its own rpmlib() needs).\n\
         AutoReqProv: no\n\n\
         %global debug_package %{{nil}}\n\
         %global __os_install_post %{{nil}}\n\
         %global _build_id_links none\n\n\
         %description\n{description}\n\n\
         %install\nmkdir -p %{{buildroot}}\ncp -a %{{payload}}/. %{{buildroot}}/\n\n\
         %files\n%defattr(-,root,root,-)\n\
         /{BINARY_PATH}\n/{MAN_PATH}\n\
         %dir /{LICENSES}\n%license /{LICENSES}/LICENSE-MIT\n%license /{LICENSES}/LICENSE-APACHE\n\n\
         %changelog\n{changelog}\n",
        name = contents.name,
        version = contents.version,
        summary = contents.summary(),
        license = contents.license,
        homepage = contents.homepage,
        maintainer = contents.maintainer,
        description = contents.long_description(),
        changelog = changelog::rpm(contents.maintainer, RELEASE, contents.changelog),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::tests::{contents, releases};

    #[test]
    fn spec_file() {
        let releases = releases();
        let text = spec(&contents(&releases));
        assert!(
            text.starts_with("Name: foster\nVersion: 1.2.3\nRelease: 1\nSummary: A small init\n")
        );
        assert!(text.contains("\nLicense: MIT OR Apache-2.0\n"));
        assert!(text.contains("\nAutoReqProv: no\n"));
        assert!(text.contains("\n/usr/bin/foster\n/usr/share/man/man1/foster.1.gz\n"));
        assert!(text.contains(
            "\n%changelog\n* Thu Feb 29 2024 M <m@example.org> - 1.2.3-1\n- Something.\n"
        ));
        assert!(!text.contains("Requires:"));
    }
}
