//! Signals by name and number, as Docker and Podman take a stop signal.
//! (What a process does with one is the library's
//! `orphans::process::signals`.)

use nix::sys::signal::Signal;

pub use crate::verdict::{signal_name as name, RTMIN, SIGTERM};

/// The last signal on Linux (`_NSIG - 1`, signal(7)).
const RTMAX: u32 = 64;

/// A signal's number from the ways Docker and Podman accept it in
/// `STOPSIGNAL` and `--stop-signal`: `SIGTERM`, `TERM`, `term`, `15`,
/// `SIGRTMIN+3`, `RTMAX-2`. `Err` says why not.
pub fn parse(text: &str) -> Result<u32, String> {
    let word = text.trim();
    let refuse = || format!("'{word}' is not a signal");
    if let Ok(number) = word.parse::<u32>() {
        return (1..=RTMAX)
            .contains(&number)
            .then_some(number)
            .ok_or_else(refuse);
    }
    let upper = word.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(number) = real_time(bare) {
        return Ok(number);
    }
    format!("SIG{bare}")
        .parse::<Signal>()
        .map(|signal| signal as u32)
        .map_err(|_| refuse())
}

/// `RTMIN`, `RTMIN+N` and `RTMAX-N`, within the real-time range.
fn real_time(bare: &str) -> Option<u32> {
    let number = if let Some(rest) = bare.strip_prefix("RTMIN") {
        RTMIN.checked_add(offset(rest, '+')?)?
    } else if let Some(rest) = bare.strip_prefix("RTMAX") {
        RTMAX.checked_sub(offset(rest, '-')?)?
    } else {
        return None;
    };
    (RTMIN..=RTMAX).contains(&number).then_some(number)
}

/// The N of `+N` (or `-N`), 0 for nothing.
fn offset(rest: &str, sign: char) -> Option<u32> {
    match rest.strip_prefix(sign) {
        Some(digits) => digits.parse().ok(),
        None if rest.is_empty() => Some(0),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_as_docker_takes_them() {
        for (text, number) in [
            ("SIGTERM", 15),
            ("TERM", 15),
            ("sigquit", 3),
            ("15", 15),
            ("SIGRTMIN+3", 37),
            ("RTMIN", 34),
            ("SIGRTMAX-2", 62),
            ("SIGKILL", 9),
        ] {
            assert_eq!(parse(text), Ok(number), "{text}");
        }
        for bad in ["", "0", "65", "SIGBOGUS", "RTMIN+31", "RTMIN-1", "RTMAX+1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(37), "SIGRTMIN+3");
        assert_eq!(name(34), "SIGRTMIN");
        assert_eq!(parse(&name(62)), Ok(62));
    }
}
