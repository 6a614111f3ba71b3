//! Markdown tables, as the chapters show them: a header line, its rule,
//! and one line per row, cells between `|`s.

use std::fmt::Display;

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    /// For figures (`---:`).
    Right,
}

/// The header of a table whose columns are `headings`, left-aligned: the
/// line of headings and the rule under it (two lines, no final newline).
pub fn header(headings: &[&str]) -> String {
    let columns: Vec<(&str, Align)> = headings.iter().map(|h| (*h, Align::Left)).collect();
    header_aligned(&columns)
}

/// [`header`] with an alignment per column.
pub fn header_aligned(columns: &[(&str, Align)]) -> String {
    let headings: Vec<&str> = columns.iter().map(|(heading, _)| *heading).collect();
    let rule: Vec<&str> = columns
        .iter()
        .map(|(_, align)| match align {
            Align::Left => "---",
            Align::Right => "---:",
        })
        .collect();
    format!("{}\n|{}|", row(&headings), rule.join("|"))
}

/// One line of a table: `| a | b |`.
pub fn row<T: Display>(cells: &[T]) -> String {
    let cells: Vec<String> = cells.iter().map(ToString::to_string).collect();
    format!("| {} |", cells.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_rules_and_rows() {
        assert_eq!(
            header(&["PID 1", "zombies"]),
            "| PID 1 | zombies |\n|---|---|"
        );
        assert_eq!(
            header_aligned(&[("n", Align::Right), ("what", Align::Left)]),
            "| n | what |\n|---:|---|"
        );
        assert_eq!(row(&[1, 2, 3]), "| 1 | 2 | 3 |");
        assert_eq!(row(&["`a`", "b"]), "| `a` | b |");
    }
}
