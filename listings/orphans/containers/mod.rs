//! Containers: one driver for Docker and Podman ([`engine`]), what is
//! Docker's own ([`docker`]) and Podman's ([`podman`]), and the project's
//! image ([`image`]). Nothing here decides whether an experiment can run:
//! that is `orphans::capability`, which uses these.

pub mod docker;
pub mod engine;
pub mod image;
pub mod podman;
