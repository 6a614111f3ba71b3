//! The probe under a real Docker engine, in the image `orphans-image` builds.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{row, skip_without_docker};
use orphans::containers::docker::{run_watched, WatchedRun};
use orphans::containers::engine::Engine;
use orphans::containers::image::{ensure_image, image_reference, Image, INPUTS_LABEL};

/// The image, built (or found up to date) once for all tests of this file.
fn image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| {
        ensure_image(Path::new(env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("building the image: {e}"))
    })
}

/// The image's static probe as PID 1 of a container, with the host's
/// /proc at /host/proc.
fn probe_in_docker() -> (WatchedRun, serde_json::Value) {
    let image = image();
    let options = ["-v", "/proc:/host/proc:ro"];
    let probe = ["probe", "--host-proc", "/host/proc", "--format", "json"];
    let run = run_watched(&image.reference, &options, &probe)
        .unwrap_or_else(|e| panic!("running the probe in docker: {e}"));
    let rows: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    (run, rows)
}

#[test]
fn the_image_is_tagged_with_the_version_and_labelled_with_its_inputs() {
    if skip_without_docker() {
        return;
    }
    let image = image();
    assert_eq!(image.reference, image_reference());
    assert!(image.reference.ends_with(env!("CARGO_PKG_VERSION")));
    for binary in ["probe", "container", "orphans-image"] {
        assert!(
            image.binaries.iter().any(|b| b == binary),
            "{binary} missing: {:?}",
            image.binaries
        );
    }
    let format = format!("{{{{index .Config.Labels \"{INPUTS_LABEL}\"}}}}");
    let label = Engine::docker().run(&["image", "inspect", "--format", &format, &image.reference]);
    assert!(
        matches!(label.as_deref(), Ok(l) if l.len() == 16),
        "{label:?}"
    );
    // Same inputs, same image: the second call must not build again.
    let again = ensure_image(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("second build");
    assert!(
        !again.rebuilt,
        "the image was rebuilt though nothing changed"
    );
}

#[test]
fn the_image_has_a_busybox_shell_and_our_static_binaries() {
    if skip_without_docker() {
        return;
    }
    let output = common::run(
        "docker",
        &[
            "run",
            "--network",
            "none",
            "--rm",
            &image().reference,
            "sh",
            "-c",
            "echo $0 && probe --help",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("sh\nusage: probe"), "{stdout}");
}

#[test]
fn in_docker_the_root_is_pid_1_and_adopts_the_orphan() {
    if skip_without_docker() {
        return;
    }
    let (_, rows) = probe_in_docker();
    let root = row(&rows, "root");
    assert_eq!(root["pid"], 1, "{rows}");
    assert_eq!(
        root["ppid"], 0,
        "PID 1's parent is outside the namespace: {rows}"
    );
    assert_eq!(row(&rows, "child")["ppid"], 1, "{rows}");
    assert_eq!(
        row(&rows, "grandchild")["ppid"],
        1,
        "orphans go to PID 1: {rows}"
    );
    assert_eq!(row(&rows, "grandchild")["parent_comm"], "probe", "{rows}");
    for role in ["root", "child", "grandchild"] {
        let host = row(&rows, role)["host_pid"].as_i64();
        assert!(
            matches!(host, Some(pid) if pid > 1),
            "{role}: host PID {host:?}: {rows}"
        );
    }
}

#[test]
fn from_the_host_the_containers_pid_1_is_the_probes_root() {
    if skip_without_docker() {
        return;
    }
    let (run, rows) = probe_in_docker();
    let root_host_pid = row(&rows, "root")["host_pid"].as_i64();
    assert_eq!(
        root_host_pid,
        Some(i64::from(run.host_pid_of_pid1)),
        "{rows}"
    );
}

#[test]
fn docker_probe_prints_the_table_or_says_why_not() {
    let output = common::run(env!("CARGO_BIN_EXE_docker-probe"), &["--or-say-why"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if skip_without_docker() {
        assert!(
            stdout.starts_with("*Not run here: The probe under Docker needs "),
            "{stdout}"
        );
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        return;
    }
    assert!(stdout.contains("| Root | 1 | 0 | - |"), "{stdout}");
    assert!(stdout.contains("The engine agrees"), "{stdout}");
}

#[test]
fn bad_input_gives_a_clear_error() {
    for program in [
        env!("CARGO_BIN_EXE_docker-probe"),
        env!("CARGO_BIN_EXE_orphans-image"),
    ] {
        let output = common::run(program, &["--bogus"]);
        assert_eq!(output.status.code(), Some(2), "{program}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--bogus") && stderr.contains("usage:"),
            "{stderr}"
        );
    }
    let output = common::run(
        env!("CARGO_BIN_EXE_orphans-image"),
        &["--project", "/nonexistent"],
    );
    assert_eq!(output.status.code(), Some(2));
}
