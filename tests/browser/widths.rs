//! Whether a page reads on a laptop and on a phone.
//!
//! At 1280x800 (a small laptop, with mdBook's sidebar open) every table and
//! every code block must fit mdBook's text column: the element, its
//! `.table-wrapper` and a block's `<code>` each have a `scrollWidth` no
//! larger than their `clientWidth` (nothing to scroll sideways inside the
//! box), and the element ends within `<main>`. At 390 px wide (a phone,
//! laid out by the page's viewport tag) a wide table may scroll inside its
//! own box, but the page must not scroll sideways as a whole: the
//! document's width stays the viewport's, and no element of `<main>`
//! outside a box that scrolls reaches past the viewport's right edge.

use std::path::Path;

use serde_json::Value;

use crate::page::file_url;
use crate::webdriver::Session;

/// The laptop, and the phone.
const LAPTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (390, 844);

/// Lists the tables and code blocks of the page that do not fit the text
/// column, each with its overflow in CSS pixels.
const TOO_WIDE_FOR_COLUMN: &str = r#"
const main = document.querySelector('main');
if (!main) return [{ what: 'no <main>', over: 0 }];
const column = main.getBoundingClientRect();
const name = el => el.tagName === 'TABLE'
  ? 'table "' + [...el.querySelectorAll('thead th')].map(th => th.innerText.trim()).join(' | ') + '"'
  : 'code block "' + el.innerText.trim().split('\n')[0].slice(0, 50) + '"';
const wide = [];
for (const el of main.querySelectorAll('table, pre')) {
  const boxes = [el];
  if (el.parentElement.classList.contains('table-wrapper')) boxes.push(el.parentElement);
  const code = el.tagName === 'PRE' ? el.querySelector('code') : null;
  if (code) boxes.push(code);
  const scroll = Math.max(...boxes.map(box => box.scrollWidth - box.clientWidth));
  const past = el.getBoundingClientRect().right - column.right;
  const over = Math.ceil(Math.max(scroll, past));
  if (over > 1) wide.push({ what: name(el), over });
}
return wide;
"#;

/// The page's width against the viewport's, and the outermost elements of
/// `<main>` that reach past the viewport without a scrolling box around
/// them.
const PAGE_WIDER_THAN_SCREEN: &str = r#"
const viewport = document.documentElement.clientWidth;
const page = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
const main = document.querySelector('main');
const scrollsInside = el => {
  for (let box = el.parentElement; box && box !== main; box = box.parentElement) {
    const overflow = getComputedStyle(box).overflowX;
    if (overflow === 'auto' || overflow === 'scroll') return true;
  }
  return false;
};
const past = [];
for (const el of main ? main.querySelectorAll('*') : []) {
  const box = el.getBoundingClientRect();
  if (box.width === 0 || box.right <= viewport + 1 || scrollsInside(el)) continue;
  if (past.some(outer => outer.contains(el))) continue;
  past.push(el);
}
return { viewport, page, past: past.slice(0, 5).map(el =>
  el.tagName.toLowerCase() + ' "' + (el.innerText || el.textContent || '').trim().split('\n')[0].slice(0, 50)
  + '" +' + Math.ceil(el.getBoundingClientRect().right - viewport) + ' px') };
"#;

/// The width problems of `page`, each a line naming the page, the screen
/// and the element; none when it fits both screens. Leaves the session
/// at the window's own size.
pub fn check_widths(session: &Session, book: &Path, page: &str) -> Vec<String> {
    let url = file_url(&book.join(page));
    let mut problems = Vec::new();

    session.emulate(LAPTOP.0, LAPTOP.1, false);
    session.open(&url);
    for wide in session
        .run(TOO_WIDE_FOR_COLUMN)
        .as_array()
        .into_iter()
        .flatten()
    {
        problems.push(format!(
            "{page}: at {}x{}, {} is {} px wider than its box or the text column",
            LAPTOP.0, LAPTOP.1, wide["what"], wide["over"]
        ));
    }

    session.emulate(PHONE.0, PHONE.1, true);
    session.open(&url);
    let phone = session.run(PAGE_WIDER_THAN_SCREEN);
    problems.extend(phone_problems(page, &phone));
    session.stop_emulating();
    problems
}

/// What is wrong at the phone's width, from [`PAGE_WIDER_THAN_SCREEN`]'s
/// answer.
fn phone_problems(page: &str, seen: &Value) -> Vec<String> {
    let viewport = seen["viewport"].as_i64().unwrap_or(0);
    let width = seen["page"].as_i64().unwrap_or(0);
    let mut problems = Vec::new();
    if viewport != i64::from(PHONE.0) {
        problems.push(format!(
            "{page}: laid out {viewport} px wide, not as a phone of {} px",
            PHONE.0
        ));
    }
    if width > viewport {
        problems.push(format!(
            "{page}: at {} px the page is {width} px wide: it scrolls sideways",
            PHONE.0
        ));
    }
    for element in seen["past"].as_array().into_iter().flatten() {
        problems.push(format!(
            "{page}: at {} px, {} reaches past the screen",
            PHONE.0,
            element.as_str().unwrap_or("?")
        ));
    }
    problems
}

/// One line for the test's output: how the page fared at both widths.
pub fn summary(problems: &[String]) -> String {
    if problems.is_empty() {
        return format!("fits {}x{} and {} px", LAPTOP.0, LAPTOP.1, PHONE.0);
    }
    format!("{} width problems", problems.len())
}
