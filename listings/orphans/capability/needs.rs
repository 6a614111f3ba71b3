//! What an experiment needs, made of the checks: the project's image (built
//! if needed) or the one line of what is missing for it; the rows of a
//! table that can run under Docker; Podman with the image in its storage.

use orphans::cli::rows::CommandRow;
use orphans::containers::image::{ensure_image, image_reference, Image};
use orphans::containers::{engine::Engine, podman};
use orphans::missing::{line_for, Missing};

/// The project's image, built if needed, or what this machine lacks for
/// it: an engine that runs containers, a static busybox, or an image it
/// could build, as one [`Missing`] (the one line a page shows).
pub fn image_or_missing() -> Result<Image, Missing> {
    orphans::capability::docker()?;
    let missing = orphans::capability::project_image();
    if !missing.is_empty() {
        return Err(Missing::combined(&missing));
    }
    ensure_image(&orphans::workspace::project_dir()).map_err(|why| {
        Missing::new(
            "the project's image",
            why,
            "see `cargo run --bin orphans-image`",
        )
    })
}

/// The project's image if it has been built already, without building it:
/// for a chapter's block, which `cargo test` compiles and runs on its own
/// (the book's build and the Docker tests build the image).
pub fn built_image() -> Result<String, Missing> {
    orphans::capability::docker()?;
    let reference = image_reference();
    match Engine::docker().image_id(&reference) {
        Some(_) => Ok(reference),
        None => Err(Missing::new(
            "the project's image",
            format!("{reference} has not been built yet"),
            "cargo run --bin orphans-image",
        )),
    }
}

/// Podman, ready to run the project's image (see
/// `orphans::containers::podman::ready`), or what is missing for it.
pub fn podman_ready() -> Result<podman::Ready, Missing> {
    orphans::capability::podman()?;
    podman::ready(&image_or_missing()?)
}

/// What a table tool with `docker` rows (see [`CommandRow`]) can do with
/// them here.
pub struct DockerRows {
    /// The project's image, when the rows can run.
    pub image: Option<String>,
    /// Otherwise what is missing, for one line under the table.
    pub missing: Vec<Missing>,
}

impl DockerRows {
    /// Looks at `rows`: if one of them runs under Docker, builds the image
    /// (once) or finds out what is missing. `Err` when everything is there
    /// but the image cannot be built.
    pub fn for_rows(rows: &[CommandRow]) -> Result<DockerRows, String> {
        let mut found = DockerRows {
            image: None,
            missing: Vec::new(),
        };
        if !rows.iter().any(CommandRow::in_docker) {
            return Ok(found);
        }
        let mut missing = orphans::capability::project_image();
        if missing.is_empty() {
            found.image = Some(ensure_image(&orphans::workspace::project_dir())?.reference);
        } else {
            found.missing.append(&mut missing);
        }
        Ok(found)
    }

    /// Whether `row` can run here.
    pub fn runs(&self, row: &CommandRow) -> bool {
        !row.in_docker() || self.image.is_some()
    }

    /// The one line that says why the `docker` rows are not in the table.
    pub fn note(&self) -> Option<String> {
        (!self.missing.is_empty()).then(|| line_for("The rows under Docker", &self.missing))
    }
}
