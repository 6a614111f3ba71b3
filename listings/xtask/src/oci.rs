//! The image `foster:VERSION` for both architectures: one OCI image index
//! (image-spec's index.json) whose `linux/amd64` and `linux/arm64`
//! manifests each hold one layer, `/foster`. buildah builds it `FROM
//! scratch` with `COPY` only, so nothing runs and no emulator is needed;
//! the index is written as an OCI archive (a tar of an OCI layout), the
//! release file `foster-VERSION-oci.tar`. A Docker engine, when one
//! answers, gets this machine's platform of it as `foster:VERSION`, for
//! `COPY --from=foster:VERSION`.
//!
//! buildah keeps its images in a storage of its own under cargo's target
//! directory (vfs: plain folders, any file system), removed when done, so
//! the machine's containers and images are never touched.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::dist::{fresh_folder, progress, run, write, Target, TARGETS};

/// What the image needs to know.
pub struct Image<'a> {
    pub version: &'a str,
    pub homepage: &'a str,
    pub license: &'a str,
    /// The release's day, as the image's creation time.
    pub epoch: i64,
}

/// The archive's file name.
pub fn archive_name(version: &str) -> String {
    format!("foster-{version}-oci.tar")
}

/// Builds the index from the release binaries (`binaries[i]` is
/// `TARGETS[i]`'s) in `work`, writes the archive into `dist`, and returns
/// its name.
pub fn build(
    image: &Image,
    binaries: &[Vec<u8>],
    work: &Path,
    dist: &Path,
) -> Result<String, String> {
    let context = work.join("image");
    fresh_folder(&context)?;
    for (target, binary) in TARGETS.iter().zip(binaries) {
        write(&context.join(binary_name(target)), binary, 0o755)?;
    }
    write(
        &context.join("Containerfile"),
        containerfile(image).as_bytes(),
        0o644,
    )?;
    let storage = work.join("containers");
    fresh_folder(&storage)?;
    let manifest = format!("localhost/foster:{}", image.version);
    let platforms: Vec<String> = TARGETS
        .iter()
        .map(|target| format!("linux/{}", target.debian_arch))
        .collect();
    progress(format_args!(
        "building the image index foster:{} for {}",
        image.version,
        platforms.join(" and ")
    ));
    run(
        buildah(&storage)
            .args(["build", "--quiet", "--network", "none"])
            .args(["--platform", &platforms.join(",")])
            .args(["--manifest", &manifest])
            .args(["--timestamp", &image.epoch.to_string()])
            .args(["--file", "Containerfile"])
            .arg(&context)
            .stdout(Stdio::null()),
        "buildah build",
    )?;
    let name = archive_name(image.version);
    let destination = format!(
        "oci-archive:{}:foster:{}",
        dist.join(&name).display(),
        image.version
    );
    run(
        buildah(&storage)
            .args([
                "manifest",
                "push",
                "--quiet",
                "--all",
                &manifest,
                &destination,
            ])
            .stdout(Stdio::null()),
        "buildah manifest push",
    )?;
    std::fs::remove_dir_all(&storage)
        .map_err(|e| format!("removing buildah's storage {}: {e}", storage.display()))?;
    Ok(name)
}

/// buildah with its own storage (and run folder) under `storage`.
fn buildah(storage: &Path) -> Command {
    let mut command = Command::new("buildah");
    command
        .arg("--root")
        .arg(storage.join("root"))
        .arg("--runroot")
        .arg(storage.join("run"))
        .args(["--storage-driver", "vfs"]);
    command
}

/// The binary's name in the build context: buildah sets `TARGETARCH` to
/// each platform's architecture, which the Containerfile's COPY names.
fn binary_name(target: &Target) -> String {
    format!("foster-{}", target.debian_arch)
}

fn containerfile(image: &Image) -> String {
    format!(
        "FROM scratch\n\
         ARG TARGETARCH\n\
         COPY foster-${{TARGETARCH}} /foster\n\
         LABEL org.opencontainers.image.title=\"foster\" \
         org.opencontainers.image.version=\"{}\" \
         org.opencontainers.image.source=\"{}\" \
         org.opencontainers.image.licenses=\"{}\"\n\
         ENTRYPOINT [\"/foster\"]\n",
        image.version, image.homepage, image.license
    )
}

/// Copies this machine's platform of the archive into the Docker engine as
/// `foster:VERSION` (skopeo picks the index's manifest for this machine).
pub fn load_into_docker(version: &str, dist: &Path) -> Result<(), String> {
    let reference = format!("foster:{version}");
    progress(format_args!(
        "loading this machine's platform of the index into Docker as {reference}"
    ));
    let source = format!("oci-archive:{}", dist.join(archive_name(version)).display());
    run(
        Command::new("skopeo")
            .args([
                "copy",
                "--quiet",
                &source,
                &format!("docker-daemon:{reference}"),
            ])
            .stdout(Stdio::null()),
        &format!("skopeo copy into Docker's {reference}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_platform() {
        let image = Image {
            version: "1.2.3",
            homepage: "https://example.org",
            license: "MIT",
            epoch: 0,
        };
        let text = containerfile(&image);
        assert!(
            text.starts_with("FROM scratch\nARG TARGETARCH\nCOPY foster-${TARGETARCH} /foster\n")
        );
        assert!(text.contains("org.opencontainers.image.version=\"1.2.3\""));
        assert!(text.ends_with("ENTRYPOINT [\"/foster\"]\n"));
        let names: Vec<String> = TARGETS.iter().map(binary_name).collect();
        assert_eq!(names, ["foster-amd64", "foster-arm64"]);
        assert_eq!(archive_name("1.2.3"), "foster-1.2.3-oci.tar");
    }
}
