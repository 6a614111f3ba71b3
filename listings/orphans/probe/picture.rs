//! Pictures of process trees, drawn as inline SVG.
//!
//! A picture is one or more [`Panel`]s side by side, each a small tree of
//! processes ([`Node`]s, identified by PID) joined by [`Edge`]s. The probe
//! draws its family at birth and after the child's exit; any other
//! experiment that knows PIDs and parents can draw its own trees the same
//! way. The SVG is written by hand: no drawing tool is needed to build the
//! book, and the output has no blank line, so that markdown (CommonMark's
//! HTML blocks end at a blank line) passes it through untouched.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// How a process is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// An ordinary, running process: a plain box.
    Running,
    /// A process that has exited: a faded box with a dashed outline.
    Exited,
    /// The process that adopted an orphan: a highlighted box.
    Adopter,
}

/// One process in a panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub pid: i32,
    /// Its command name, as `/proc/PID/comm` gives it.
    pub name: String,
    /// What it is in the experiment ("root", "grandchild"); may be empty.
    pub role: String,
    pub state: State,
}

/// How two processes are related.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `to` is a child of `from`: a plain arrow.
    Parent,
    /// `from` adopted the orphan `to`: a bold, dashed, highlighted arrow.
    Adopted,
    /// `from` is an ancestor of `to`, with unknown processes between: dots.
    Ancestry,
}

/// An arrow from one PID to another, optionally labelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: i32,
    pub to: i32,
    pub link: Link,
    pub label: Option<String>,
}

/// One tree with a title; a picture shows panels left to right.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Panel {
    pub title: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Panel {
    /// An empty panel titled `title`.
    pub fn titled(title: &str) -> Panel {
        Panel {
            title: title.to_string(),
            ..Panel::default()
        }
    }

    /// Adds a process.
    pub fn add(&mut self, node: Node) {
        self.nodes.push(node);
    }

    /// Adds an arrow between two processes.
    pub fn join(&mut self, edge: Edge) {
        self.edges.push(edge);
    }
}

impl Node {
    pub fn new(pid: i32, name: &str, role: &str, state: State) -> Node {
        Node {
            pid,
            name: name.to_string(),
            role: role.to_string(),
            state,
        }
    }
}

impl Edge {
    pub fn new(from: i32, to: i32, link: Link) -> Edge {
        Edge {
            from,
            to,
            link,
            label: None,
        }
    }

    pub fn labelled(self, label: &str) -> Edge {
        Edge {
            label: Some(label.to_string()),
            ..self
        }
    }
}

const BOX_WIDTH: i32 = 132;
const BOX_HEIGHT: i32 = 54;
const COLUMN_GAP: i32 = 22;
const ROW_GAP: i32 = 34;
const TITLE_HEIGHT: i32 = 28;
/// Room between two panels, for the arrow that says time passes.
const PANEL_GAP: i32 = 70;
const MARGIN: i32 = 10;
/// Stands out on mdBook's light and dark themes alike.
const HIGHLIGHT: &str = "#e07b00";

/// Where a node's box goes, in columns and rows of the panel's grid.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Place {
    column: f32,
    row: i32,
}

/// Lays out a panel as a tree: leaves take consecutive columns, a parent
/// sits centred above its children. Only [`Link::Parent`],
/// [`Link::Adopted`] and [`Link::Ancestry`] edges whose target has no other
/// parent yet shape the tree; every edge is drawn anyway.
fn layout(panel: &Panel) -> HashMap<i32, Place> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let mut has_parent = HashSet::new();
    for edge in &panel.edges {
        if has_parent.insert(edge.to) {
            children.entry(edge.from).or_default().push(edge.to);
        }
    }
    let mut places = HashMap::new();
    let mut next_column = 0.0;
    for node in &panel.nodes {
        if !has_parent.contains(&node.pid) {
            place(node.pid, 0, &children, &mut places, &mut next_column);
        }
    }
    // Nodes only reachable through a cycle: give them a column of their own.
    for node in &panel.nodes {
        if !places.contains_key(&node.pid) {
            place(node.pid, 0, &children, &mut places, &mut next_column);
        }
    }
    places
}

fn place(
    pid: i32,
    row: i32,
    children: &HashMap<i32, Vec<i32>>,
    places: &mut HashMap<i32, Place>,
    next_column: &mut f32,
) -> f32 {
    // Reserve the spot first, so that a cycle in the edges ends here.
    places.insert(
        pid,
        Place {
            column: *next_column,
            row,
        },
    );
    let kids: Vec<i32> = children
        .get(&pid)
        .into_iter()
        .flatten()
        .copied()
        .filter(|kid| !places.contains_key(kid))
        .collect();
    let column = if kids.is_empty() {
        *next_column += 1.0;
        *next_column - 1.0
    } else {
        let columns: Vec<f32> = kids
            .iter()
            .map(|&kid| place(kid, row + 1, children, places, next_column))
            .collect();
        (columns[0] + columns[columns.len() - 1]) / 2.0
    };
    places.insert(pid, Place { column, row });
    column
}

/// Width and height in pixels of a panel laid out as `places`.
fn panel_size(places: &HashMap<i32, Place>) -> (i32, i32) {
    let columns = places.values().map(|p| p.column).fold(0.0, f32::max) as i32 + 1;
    let rows = places.values().map(|p| p.row).max().unwrap_or(0) + 1;
    (
        columns * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP,
        TITLE_HEIGHT + rows * (BOX_HEIGHT + ROW_GAP) - ROW_GAP,
    )
}

/// The top-left corner of a node's box, in pixels from the panel's origin.
fn corner(place: Place, left: i32) -> (i32, i32) {
    (
        left + (place.column * (BOX_WIDTH + COLUMN_GAP) as f32) as i32,
        MARGIN + TITLE_HEIGHT + place.row * (BOX_HEIGHT + ROW_GAP),
    )
}

/// The SVG of `panels`, left to right, with an arrow between neighbours.
/// One element per line and no blank line.
pub fn draw(panels: &[Panel]) -> String {
    let layouts: Vec<HashMap<i32, Place>> = panels.iter().map(layout).collect();
    let sizes: Vec<(i32, i32)> = layouts.iter().map(panel_size).collect();
    let width = 2 * MARGIN
        + sizes.iter().map(|s| s.0).sum::<i32>()
        + PANEL_GAP * (panels.len() as i32 - 1).max(0);
    let height = 2 * MARGIN + sizes.iter().map(|s| s.1).max().unwrap_or(0);
    let summary: Vec<&str> = panels.iter().map(|p| p.title.as_str()).collect();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"process-tree\" role=\"img\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         style=\"max-width:100%;height:auto\" font-family=\"sans-serif\" \
         aria-label=\"process trees: {}\">\n",
        escape(&summary.join("; then "))
    );
    let mut left = MARGIN;
    for (index, ((panel, places), size)) in panels.iter().zip(&layouts).zip(&sizes).enumerate() {
        if index > 0 {
            draw_time_arrow(&mut svg, left - PANEL_GAP, height);
        }
        draw_panel(&mut svg, panel, places, left, size.0);
        left += size.0 + PANEL_GAP;
    }
    svg.push_str("</svg>");
    svg
}

/// The picture as a block of HTML for a markdown page: the SVG inside a
/// `<div>` (a markdown HTML block must start with a block-level tag), with
/// no blank line in it, followed by one, so the markdown after it renders.
pub fn html_block(panels: &[Panel]) -> String {
    format!(
        "<div class=\"process-picture\">\n{}\n</div>\n\n",
        draw(panels)
    )
}

fn draw_panel(
    svg: &mut String,
    panel: &Panel,
    places: &HashMap<i32, Place>,
    left: i32,
    width: i32,
) {
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" \
         fill=\"currentColor\">{}</text>",
        left + width / 2,
        MARGIN + 16,
        escape(&panel.title)
    );
    // Edges first, so that boxes cover the ends of the lines.
    for edge in &panel.edges {
        if let (Some(&from), Some(&to)) = (places.get(&edge.from), places.get(&edge.to)) {
            draw_edge(svg, edge, corner(from, left), corner(to, left));
        }
    }
    for node in &panel.nodes {
        if let Some(&place) = places.get(&node.pid) {
            draw_node(svg, node, corner(place, left));
        }
    }
}

fn draw_node(svg: &mut String, node: &Node, (x, y): (i32, i32)) {
    let (stroke, width, extra) = match node.state {
        State::Running => ("currentColor", "1.5", ""),
        State::Exited => (
            "currentColor",
            "1.5",
            " stroke-dasharray=\"5 3\" opacity=\"0.5\"",
        ),
        State::Adopter => (HIGHLIGHT, "3", ""),
    };
    let _ = writeln!(
        svg,
        "<g class=\"process {}\" data-pid=\"{}\"{extra}>",
        state_class(node.state),
        node.pid
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{x}\" y=\"{y}\" width=\"{BOX_WIDTH}\" height=\"{BOX_HEIGHT}\" rx=\"6\" \
         fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>"
    );
    let centre = x + BOX_WIDTH / 2;
    let role = match node.state {
        State::Exited if node.role.is_empty() => "exited".to_string(),
        State::Exited => format!("{}, exited", node.role),
        _ => node.role.clone(),
    };
    let lines = [
        (15, "11", "normal", role),
        (32, "13", "bold", node.name.clone()),
        (48, "12", "normal", format!("PID {}", node.pid)),
    ];
    for (dy, size, weight, text) in lines {
        if !text.is_empty() {
            let _ = writeln!(
                svg,
                "<text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{size}\" \
                 font-weight=\"{weight}\" fill=\"currentColor\">{}</text>",
                y + dy,
                escape(&text)
            );
        }
    }
    svg.push_str("</g>\n");
}

/// An arrow from the bottom of one box to the top of another.
fn draw_edge(svg: &mut String, edge: &Edge, (fx, fy): (i32, i32), (tx, ty): (i32, i32)) {
    let (x1, y1) = (fx + BOX_WIDTH / 2, fy + BOX_HEIGHT);
    let (x2, y2) = (tx + BOX_WIDTH / 2, ty);
    let (colour, style) = match edge.link {
        Link::Parent => ("currentColor", "stroke-width=\"1.5\""),
        Link::Adopted => (HIGHLIGHT, "stroke-width=\"3\" stroke-dasharray=\"7 4\""),
        Link::Ancestry => (
            "currentColor",
            "stroke-width=\"1.5\" stroke-dasharray=\"2 4\"",
        ),
    };
    let _ = writeln!(
        svg,
        "<line class=\"{}\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{colour}\" {style}/>",
        link_class(edge.link)
    );
    arrow_head(svg, (x1, y1), (x2, y2), colour);
    if let Some(label) = &edge.label {
        // Beside the line's middle, on its right-hand side, clear of it.
        let (dx, dy) = ((x2 - x1) as f32, (y2 - y1) as f32);
        let length = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (dy / length, -dx / length);
        let anchor = if nx >= 0.0 { "start" } else { "end" };
        let _ = writeln!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"{anchor}\" font-size=\"12\" \
             font-style=\"italic\" fill=\"{colour}\">{}</text>",
            (x1 + x2) as f32 / 2.0 + 8.0 * nx,
            (y1 + y2) as f32 / 2.0 + 8.0 * ny,
            escape(label)
        );
    }
}

fn state_class(state: State) -> &'static str {
    match state {
        State::Running => "running",
        State::Exited => "exited",
        State::Adopter => "adopter",
    }
}

fn link_class(link: Link) -> &'static str {
    match link {
        Link::Parent => "parent",
        Link::Adopted => "adopted",
        Link::Ancestry => "ancestry",
    }
}

/// A filled triangle whose tip is at `to`, pointing away from `from`.
/// (Drawn directly rather than with an SVG `<marker>`, whose `id` would have
/// to be unique among all the pictures of a page.)
fn arrow_head(svg: &mut String, from: (i32, i32), to: (i32, i32), colour: &str) {
    let (dx, dy) = ((to.0 - from.0) as f32, (to.1 - from.1) as f32);
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / length, dy / length);
    let (bx, by) = (to.0 as f32 - 10.0 * ux, to.1 as f32 - 10.0 * uy);
    let _ = writeln!(
        svg,
        "<polygon points=\"{},{} {:.1},{:.1} {:.1},{:.1}\" fill=\"{colour}\"/>",
        to.0,
        to.1,
        bx - 5.0 * uy,
        by + 5.0 * ux,
        bx + 5.0 * uy,
        by - 5.0 * ux
    );
}

/// The wide arrow between two panels, ending at `right`.
fn draw_time_arrow(svg: &mut String, right: i32, height: i32) {
    let y = height / 2;
    let (x1, x2) = (right + 12, right + PANEL_GAP - 12);
    let _ = writeln!(
        svg,
        "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"currentColor\" \
         stroke-width=\"2\" opacity=\"0.6\"/>"
    );
    arrow_head(svg, (x1, y), (x2, y), "currentColor");
}

/// Escapes text for XML character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family() -> Panel {
        Panel {
            title: "a <family>".into(),
            nodes: vec![
                Node::new(1, "init", "", State::Adopter),
                Node::new(10, "a&b", "root", State::Running),
                Node::new(11, "probe", "child", State::Exited),
                Node::new(12, "probe", "grandchild", State::Running),
            ],
            edges: vec![
                Edge::new(1, 10, Link::Ancestry),
                Edge::new(10, 11, Link::Parent),
                Edge::new(1, 12, Link::Adopted).labelled("adopted"),
            ],
        }
    }

    #[test]
    fn parents_sit_above_and_between_their_children() {
        let places = layout(&family());
        assert_eq!(places[&1].row, 0);
        assert_eq!(places[&10].row, 1);
        assert_eq!(places[&11].row, 2);
        assert_eq!(places[&12].row, 1, "the adopted orphan is init's child");
        assert!(places[&10].column < places[&12].column);
        assert_eq!(
            places[&1].column,
            (places[&10].column + places[&12].column) / 2.0
        );
    }

    #[test]
    fn cycles_do_not_hang_the_layout() {
        let panel = Panel {
            title: "loop".into(),
            nodes: vec![
                Node::new(1, "a", "", State::Running),
                Node::new(2, "b", "", State::Running),
            ],
            edges: vec![Edge::new(1, 2, Link::Parent), Edge::new(2, 1, Link::Parent)],
        };
        assert_eq!(layout(&panel).len(), 2);
    }

    #[test]
    fn the_svg_has_every_pid_escaped_text_and_no_blank_line() {
        let block = html_block(&[family(), family()]);
        assert!(block.starts_with("<div") && block.ends_with("</div>\n\n"));
        assert!(!block.trim_end().contains("\n\n"), "{block}");
        for pid in [1, 10, 11, 12] {
            assert!(block.contains(&format!(">PID {pid}</text>")), "{pid}");
        }
        assert!(block.contains("a&amp;b") && block.contains("a &lt;family&gt;"));
        assert_eq!(block.matches("<svg").count(), 1);
        assert_eq!(block.matches("class=\"adopted\"").count(), 2);
    }
}
