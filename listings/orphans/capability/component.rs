//! The components a chapter's line can ask for (`experiment --needs
//! NAMES`), what is missing of each here, and what each one is on this
//! machine, as far as an experiment's output depends on it.

use std::path::Path;

use orphans::cache::file_stamp;
use orphans::capability::{self, Missing, PEER_INITS, RUNTIME_PROGRAMS};
use orphans::containers::{docker, image};
use orphans::process::spawn::on_path;

/// A component of the machine that experiments need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    Namespaces,
    Docker,
    Busybox,
    Image,
    Musl,
    StaticFoster,
    PeerInits,
    Browser,
    Podman,
    Runtimes,
}

/// Each component: its name on a command line, and what it buys.
pub const COMPONENTS: [(&str, Component, &str); 10] = [
    (
        "namespaces",
        Component::Namespaces,
        "chapters 5 to 10 and 12",
    ),
    ("docker", Component::Docker, "chapters 5, 7, 8, 9 and 11"),
    ("busybox", Component::Busybox, "the project's image"),
    ("image", Component::Image, "chapters 5, 7, 8, 9 and 11"),
    (
        "musl",
        Component::Musl,
        "the static foster of chapters 10 and 12",
    ),
    (
        "static-foster",
        Component::StaticFoster,
        "chapter 12 measures it",
    ),
    ("peer-inits", Component::PeerInits, "chapter 12's columns"),
    ("browser", Component::Browser, "tests/browser.rs"),
    (
        "podman",
        Component::Podman,
        "chapter 15 and tests/podman.rs",
    ),
    ("runtimes", Component::Runtimes, "chapter 17's rows"),
];

impl Component {
    /// The components of a comma-separated list of names (`docker,image`).
    pub fn parse_list(list: &str) -> Result<Vec<Component>, String> {
        list.split(',')
            .filter(|name| !name.is_empty())
            .map(|name| {
                COMPONENTS
                    .iter()
                    .find(|(known, _, _)| *known == name)
                    .map(|(_, component, _)| *component)
                    .ok_or_else(|| format!("unknown component '{name}'"))
            })
            .collect()
    }

    /// What is missing of this component here (nothing when it is there).
    pub fn missing(self) -> Vec<Missing> {
        let one = |check: Result<(), Missing>| check.err().into_iter().collect();
        match self {
            Component::Namespaces => one(capability::namespaces()),
            Component::Docker => one(capability::docker()),
            Component::Busybox => one(capability::busybox()),
            Component::Image => capability::project_image(),
            Component::Musl | Component::StaticFoster => one(capability::musl_target().map(drop)),
            Component::PeerInits => capability::peer_inits(),
            Component::Browser => one(capability::browser().map(drop)),
            Component::Podman => one(capability::podman()),
            // Chapter 17 runs what it finds: a missing runtime is one row
            // of its table, never a reason not to run it.
            Component::Runtimes => Vec::new(),
        }
    }

    /// What this component is here, as far as an output depends on it:
    /// the `docker` client, the engine and the busybox; the peer inits;
    /// whether the musl target is there; the runtimes found on `PATH` (one
    /// installed or upgraded is measured again). Programs of the machine are told
    /// apart by size and time ([`file_stamp`]): they change only when a
    /// package is installed.
    pub fn identity(self) -> String {
        match self {
            Component::Docker | Component::Image => {
                let client = on_path("docker")
                    .map(|path| format!("{} {}", path.display(), file_stamp(&path)));
                let engine = docker::engine_info()
                    .map(|e| format!("{} {}", e.id, e.version))
                    .unwrap_or_default();
                let busybox = file_stamp(&image::busybox_path());
                format!("client {client:?} engine {engine} busybox {busybox}")
            }
            Component::Busybox => file_stamp(&image::busybox_path()),
            Component::PeerInits => PEER_INITS
                .iter()
                .map(|(_, path, _)| file_stamp(Path::new(path)))
                .collect::<Vec<_>>()
                .join(" "),
            Component::Runtimes => RUNTIME_PROGRAMS
                .iter()
                .map(|name| on_path(name).map_or("absent".into(), |path| file_stamp(&path)))
                .collect::<Vec<_>>()
                .join(" "),
            Component::Musl | Component::StaticFoster => {
                format!("musl {}", capability::musl_target().is_ok())
            }
            Component::Namespaces | Component::Browser | Component::Podman => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_components_are_read_by_name() {
        assert_eq!(
            Component::parse_list("namespaces,image"),
            Ok(vec![Component::Namespaces, Component::Image])
        );
        assert_eq!(Component::parse_list(""), Ok(Vec::new()));
        assert!(Component::parse_list("teleporter").is_err());
    }

    #[test]
    fn the_runtimes_are_told_apart_by_each_program() {
        let identity = Component::Runtimes.identity();
        let stamps: Vec<&str> = identity.split(' ').collect();
        assert_eq!(stamps.len(), RUNTIME_PROGRAMS.len(), "{identity}");
        // `sh` is on every machine that runs the book.
        assert_ne!(stamps[RUNTIME_PROGRAMS.len() - 1], "absent", "{identity}");
    }
}
