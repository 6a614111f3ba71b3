//! The instruction counts as a picture: one panel per event, one bar per
//! init, the floor a dashed line; an SVG the page holds inline, made by
//! the run that counted.

use std::fmt::Write;

use orphans::initbench::plan::Role;
use orphans::missing::failed_line;

use super::{count_text, Results, COUNTS};

const WIDTH: f64 = 640.0;
/// Where the bars start: the init's name goes to the left of it.
const BARS_LEFT: f64 = 110.0;
/// The longest bar, leaving room for its number.
const BARS_WIDTH: f64 = 440.0;
const BAR_HEIGHT: f64 = 16.0;
const BAR_GAP: f64 = 6.0;
const TITLE_HEIGHT: f64 = 26.0;
const PANEL_GAP: f64 = 14.0;

/// One panel: its title, its bars (init, count, is foster) and the floor.
struct Panel {
    title: String,
    bars: Vec<(String, f64, bool)>,
    floor: Option<(String, f64)>,
}

impl Results<'_> {
    /// The chart and the lines under it, or one line saying why there are
    /// no counts.
    pub(super) fn counts_section(&self) -> String {
        if let Err(missing) = crate::counts::valgrind() {
            return format!("{}\n\n", missing.line("The instruction counts"));
        }
        let panels = self.panels();
        if panels.iter().all(|panel| panel.bars.is_empty()) {
            return format!(
                "{}\n\n",
                failed_line("The instruction counts", "callgrind counted nothing")
            );
        }
        format!(
            "<div class=\"count-chart\">\n{}\n</div>\n\n{}\n\n",
            draw(&panels),
            self.chart_caption()
        )
    }

    /// foster and the peers, in the order of the run, each with a count;
    /// the floor that counted least, where the floor means something.
    fn panels(&self) -> Vec<Panel> {
        COUNTS
            .iter()
            .map(|&(key, event, has_floor)| Panel {
                title: format!("Instructions {event}"),
                bars: self
                    .inits
                    .iter()
                    .filter(|init| matches!(init.role, Role::Foster | Role::Peer))
                    .filter_map(|init| {
                        // Whole instructions: a fraction per event is what
                        // differs between the two runs besides the events.
                        let count = self.count(&init.name, key)?.round();
                        Some((init.name.clone(), count, init.role == Role::Foster))
                    })
                    .collect(),
                floor: has_floor
                    .then(|| self.lowest_count(Role::Floor, key))
                    .flatten()
                    .map(|(init, count)| (init.name.clone(), count.round())),
            })
            .collect()
    }

    /// What the chart counted and how, the floor, and foster counted twice.
    fn chart_caption(&self) -> String {
        let [small, large] = self.plan.paced;
        let mut out = format!(
            "*Instructions each init ran in user space, counted by valgrind's callgrind \
             with the init as PID 1 of a new PID namespace and the same environment for \
             all (`PATH` alone). Per event: the count with {large} events minus the count \
             with {small}, over {}, so that starting and exiting cancel out; the events \
             come one at a time, each when the init is done with the one before.",
            large - small
        );
        if let Some((floor, _)) = self.lowest_count(Role::Floor, COUNTS[1].0) {
            let build = if cfg!(debug_assertions) {
                "a debug build here, as the book's programs are"
            } else {
                "an optimised build here"
            };
            let _ = write!(
                out,
                " The dashed line is the floor, initbench's own `{}`, which makes the \
                 fewest system calls an init can ({build}); it has no start worth \
                 counting (it is initbench).",
                floor.name
            );
        }
        let twice: Vec<String> = COUNTS
            .iter()
            .filter_map(|&(key, event, _)| {
                let mine = self.count(&self.foster()?.name, key)?;
                let again = self.count(&self.named(Role::Control).next()?.name, key)?;
                let exact = |count: f64| match count < 1000.0 {
                    true => format!("{count:.1}"),
                    false => count_text(count),
                };
                Some(format!("{} and {} {event}", exact(mine), exact(again)))
            })
            .collect();
        if !twice.is_empty() {
            let _ = write!(
                out,
                " foster was counted twice, as foster and as foster-again, in runs of their \
                 own: {}.",
                twice.join("; ")
            );
        }
        out.push('*');
        out
    }
}

/// The SVG of `panels`, one below the other. One element per line and no
/// blank line, so that a markdown page can hold it inline.
fn draw(panels: &[Panel]) -> String {
    let height: f64 =
        panels.iter().map(panel_height).sum::<f64>() + PANEL_GAP * (panels.len().max(1) - 1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         style=\"max-width:100%;height:auto\" font-family=\"sans-serif\" font-size=\"12\" \
         aria-label=\"instructions per event, one bar per init\">\n"
    );
    let mut top = 0.0;
    for panel in panels {
        draw_panel(&mut svg, panel, top);
        top += panel_height(panel) + PANEL_GAP;
    }
    svg.push_str("</svg>");
    svg
}

fn panel_height(panel: &Panel) -> f64 {
    TITLE_HEIGHT + panel.bars.len() as f64 * (BAR_HEIGHT + BAR_GAP)
}

fn draw_panel(svg: &mut String, panel: &Panel, top: f64) {
    let _ = writeln!(
        svg,
        "<text x=\"0\" y=\"{}\" font-weight=\"bold\">{}</text>",
        top + 16.0,
        escape(&panel.title)
    );
    let most = panel
        .bars
        .iter()
        .map(|bar| bar.1)
        .chain(panel.floor.iter().map(|floor| floor.1))
        .fold(1.0, f64::max);
    let scale = BARS_WIDTH / most;
    for (index, (name, count, is_foster)) in panel.bars.iter().enumerate() {
        let y = top + TITLE_HEIGHT + index as f64 * (BAR_HEIGHT + BAR_GAP);
        let width = (count * scale).max(1.0);
        let colour = if *is_foster { "#2e7d32" } else { "#90a4ae" };
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            BARS_LEFT - 6.0,
            y + 12.0,
            escape(name)
        );
        let _ = writeln!(
            svg,
            "<rect x=\"{BARS_LEFT}\" y=\"{y}\" width=\"{width:.1}\" height=\"{BAR_HEIGHT}\" \
             fill=\"{colour}\"/>"
        );
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\">{}</text>",
            BARS_LEFT + width + 4.0,
            y + 12.0,
            count_text(*count)
        );
    }
    if let Some((name, count)) = &panel.floor {
        let x = BARS_LEFT + count * scale;
        let bottom = top + panel_height(panel) - BAR_GAP;
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#c62828\" \
             stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>",
            top + TITLE_HEIGHT - 4.0
        );
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#c62828\">floor ({}): {}</text>",
            x + 4.0,
            top + 16.0,
            escape(name),
            count_text(*count)
        );
    }
}

/// Text for SVG: `&`, `<` and `>` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_the_floor_is_marked() {
        let panel = Panel {
            title: "Instructions per orphan reaped".into(),
            bars: vec![
                ("foster".into(), 100.0, true),
                ("tini".into(), 200.0, false),
            ],
            floor: Some(("relay-signalfd".into(), 50.0)),
        };
        let svg = draw(&[panel]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("\n\n"), "no blank line inside the picture");
        // tini's bar is the longest, foster's half of it.
        assert!(svg.contains("width=\"440.0\" height=\"16\" fill=\"#90a4ae\""));
        assert!(svg.contains("width=\"220.0\" height=\"16\" fill=\"#2e7d32\""));
        assert!(svg.contains(">floor (relay-signalfd): 50</text>"));
        assert!(svg.contains("x1=\"220.0\""), "the floor at 50 of 200");
    }
}
