//! The probe, run as a reader would run it, outside any container.

mod common;

use common::{json_of, row, run, well_formed_elements};
use serde_json::Value;

const PROBE: &str = env!("CARGO_BIN_EXE_probe");

#[test]
fn the_family_is_related_as_expected() {
    let rows = json_of(&run(PROBE, &["--format", "json"]));
    let root = row(&rows, "root");
    let child = row(&rows, "child");
    let grandchild = row(&rows, "grandchild");
    assert_eq!(
        root["ppid"],
        std::process::id(),
        "the root's parent is this test"
    );
    assert_eq!(child["ppid"], root["pid"], "the child's parent is the root");
    assert_eq!(
        grandchild["ppid_at_birth"], child["pid"],
        "born to the child"
    );
    assert_ne!(
        grandchild["ppid"], child["pid"],
        "the grandchild was reparented"
    );
    assert!(
        grandchild["ppid"].as_i64().is_some_and(|p| p > 0),
        "{grandchild}"
    );
    assert!(
        root.get("ppid_at_birth").is_none(),
        "only the grandchild has it"
    );
}

#[test]
fn parent_names_come_from_proc() {
    let rows = json_of(&run(PROBE, &["--format", "json"]));
    // The root's parent is this test process, which is alive to be asked;
    // the grandchild's adopter is a reaper, which outlives it.
    for role in ["root", "grandchild"] {
        let row = row(&rows, role);
        let ppid = row["ppid"].as_i64().expect("ppid is a number");
        let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm"))
            .expect("the parent is still alive")
            .trim_end()
            .to_string();
        assert_eq!(row["parent_comm"], Value::String(comm), "{role}");
    }
    assert_eq!(row(&rows, "child")["parent_comm"], "probe");
}

#[test]
fn outside_a_container_the_host_pid_is_the_pid() {
    // This test may itself run in a container (a CI job's): there the
    // probe cannot know host PIDs and must say so (null), not guess.
    let on_the_host = std::fs::read_link("/proc/self/ns/pid")
        .is_ok_and(|ns| ns.as_os_str() == orphans::probe::report::HOST_PID_NAMESPACE);
    let rows = json_of(&run(PROBE, &["--format", "json"]));
    for row in rows.as_array().expect("an array") {
        if on_the_host {
            assert_eq!(row["host_pid"], row["pid"], "{row}");
        } else {
            assert_eq!(row["host_pid"], Value::Null, "{row}");
        }
    }
}

/// The data rows of a text table, each split into trimmed cells, without
/// the heading and the separator.
fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| which"))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn org_and_markdown_carry_the_same_rows() {
    let markdown = run(PROBE, &["--format", "markdown"]);
    let org = run(PROBE, &["--format", "org"]);
    assert!(markdown.status.success() && org.status.success());
    let (markdown, org) = (
        String::from_utf8_lossy(&markdown.stdout),
        String::from_utf8_lossy(&org.stdout),
    );
    let (markdown, org) = (table_rows(&markdown), table_rows(&org));
    assert_eq!(markdown.len(), 3, "{markdown:?}");
    assert_eq!(org.len(), 3, "{org:?}");
    // Two runs have different PIDs; the shape and the names must agree.
    for (m, o) in markdown.iter().zip(&org) {
        assert_eq!(m.len(), 6);
        assert_eq!(m.len(), o.len());
        assert_eq!(m[0], o[0], "same role order");
        assert!(m[1].parse::<u32>().is_ok() && o[1].parse::<u32>().is_ok());
    }
    assert!(org
        .iter()
        .all(|row| row.iter().all(|cell| !cell.contains("---"))));
}

#[test]
fn explain_names_the_adopter() {
    let output = run(PROBE, &["--explain"]);
    let text = String::from_utf8_lossy(&output.stdout);
    let rows = table_rows(&text);
    let adopter = &rows[2][2];
    assert!(
        text.contains(&format!("handed the grandchild to PID {adopter}")),
        "{text}"
    );
}

#[test]
fn bad_flags_are_refused_with_status_2() {
    for args in [
        &["--bogus"][..],
        &["--format", "yaml"],
        &["--format"],
        &["extra"],
    ] {
        let output = run(PROBE, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("probe: "), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: probe"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "no table on error");
    }
}

#[test]
fn help_is_printed_and_succeeds() {
    let output = run(PROBE, &["--help"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--format"));
}

/// The `<svg>…</svg>` of a `--picture` output, and what follows its `<div>`.
fn split_picture(text: &str) -> (&str, &str) {
    assert!(text.starts_with("<div"), "the picture comes first: {text}");
    let (block, after) = text.split_once("</div>\n").expect("the <div> is closed");
    let svg = &block[block.find("<svg").expect("an <svg> in the <div>")..];
    (svg.trim_end(), after)
}

#[test]
fn the_picture_draws_the_same_run_as_the_table() {
    let output = run(PROBE, &["--picture"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let (svg, after) = split_picture(&text);
    // mdBook passes an HTML block through only up to its first blank line.
    assert!(!svg.contains("\n\n"), "a blank line inside the picture");
    assert!(after.starts_with('\n'), "a blank line ends the HTML block");
    assert!(well_formed_elements(svg) > 10, "{svg}");
    let rows = table_rows(after);
    assert_eq!(rows.len(), 3, "{after}");
    let (root, child, grandchild) = (&rows[0], &rows[1], &rows[2]);
    // Every PID of the table, the adopter's and its name are in the picture.
    for pid in [
        &root[1],
        &root[2],
        &child[1],
        &grandchild[1],
        &grandchild[2],
    ] {
        assert!(
            svg.contains(&format!(">PID {pid}</text>")),
            "PID {pid}: {svg}"
        );
    }
    assert!(
        svg.contains(&format!(">{}</text>", grandchild[3])),
        "adopter name"
    );
    // The adoption arrow ends at the grandchild and starts at the adopter.
    assert_eq!(svg.matches("class=\"adopted\"").count(), 1);
    let adopter_box = format!("class=\"process adopter\" data-pid=\"{}\"", grandchild[2]);
    assert!(svg.contains(&adopter_box), "{adopter_box}: {svg}");
    let exited_box = format!("class=\"process exited\" data-pid=\"{}\"", child[1]);
    assert!(svg.contains(&exited_box), "{exited_box}: {svg}");
}

#[test]
fn the_picture_is_only_for_markdown() {
    let output = run(PROBE, &["--picture", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn the_xml_check_catches_broken_pictures() {
    for broken in [
        "<svg><g></svg></g>",
        "<svg><text>a < b</text></svg>",
        "<svg><text>R&D</text></svg>",
        "<svg><rect x=\"1/></svg>",
        "<svg>",
    ] {
        let caught = std::panic::catch_unwind(|| well_formed_elements(broken));
        assert!(caught.is_err(), "{broken} passed the check");
    }
    assert_eq!(
        well_formed_elements("<svg><rect/><text>a &amp; b</text></svg>"),
        3
    );
}
