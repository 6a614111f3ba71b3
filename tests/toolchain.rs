//! The toolchain checks of `orphans::toolchain` against rustup's own
//! records.

mod common;

use std::process::Command;

#[test]
fn the_musl_check_agrees_with_rustup() {
    // rustup asks its own records; the check asks the toolchain.
    let listed = match Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    {
        Ok(listed) => listed,
        Err(e) => {
            let why = format!("no rustup to compare with ({e})");
            common::skip_unless("ORPHANS_REQUIRE_RUSTUP", Some(why));
            return;
        }
    };
    assert!(listed.status.success(), "{listed:?}");
    let triple = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
    let installed = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .any(|line| line.trim() == triple);
    assert_eq!(orphans::toolchain::musl_target().is_ok(), installed);
}
