//! `docker-init-version`: what the binary behind `docker run --init` is.
//! The engine names it (`docker info`, "Init Binary") and reports a version
//! for it; the binary itself, run inside a container started with
//! `--init`, says what it is. Chapter 11 prints the table.

use orphans::capability::image_or_missing;
use orphans::containers::engine::{Engine, PATIENCE};
use orphans::missing::one_line;
use orphans::table;

// ANCHOR: main
fn main() {
    let image = match image_or_missing() {
        Ok(image) => image.reference,
        Err(missing) => {
            println!("{}", missing.line("Asking the engine about its init"));
            return;
        }
    };
    let docker = Engine::docker();
    let info = |format: &str| docker.run(&["info", "--format", format]);
    // With --init the engine mounts its init at /sbin/docker-init and runs
    // it as PID 1; asked for its version, it runs a second copy as its child.
    let init = ["--init", &image, "/sbin/docker-init", "--version"];
    let version = docker.run_container("init-version", &init, PATIENCE);
    println!("{}", table::header(&["asked", "answer"]));
    row("`docker info`: Init Binary", info("{{.InitBinary}}"));
    row(
        "`docker info`: the init's version (`InitCommit.ID`)",
        info("{{.InitCommit.ID}}"),
    );
    row("`/sbin/docker-init --version`, in a container", version);
}
// ANCHOR_END: main

/// One row: the answer in code style, "(empty)" or the error in words.
fn row(asked: &str, answer: Result<String, impl std::fmt::Display>) {
    let shown = match answer {
        Ok(text) if text.is_empty() => "(empty)".to_string(),
        Ok(text) => format!("`{}`", text.replace('`', "'")),
        Err(e) => format!("failed: {}", one_line(&e.to_string())),
    };
    println!("{}", table::row(&[asked, &shown]));
}
