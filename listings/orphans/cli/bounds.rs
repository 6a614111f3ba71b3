//! Arguments that bound a run (durations, counts), checked against limits,
//! so that no command line can make an experiment run for ever.

use std::ffi::OsString;
use std::time::Duration;

/// Parses the value of an option as a number of seconds (`2`, `0.5`) from
/// 0 up to `max`.
pub fn seconds(value: Result<OsString, lexopt::Error>, max: f64) -> Result<Duration, String> {
    let text = value.map_err(|e| e.to_string())?;
    let text = text.to_string_lossy();
    match text.parse::<f64>() {
        Ok(s) if (0.0..=max).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "'{text}' is not a number of seconds from 0 to {max}"
        )),
    }
}

/// Parses the value of an option as a whole number from `min` to `max`.
pub fn count(value: Result<OsString, lexopt::Error>, min: u32, max: u32) -> Result<u32, String> {
    let text = value.map_err(|e| e.to_string())?;
    let text = text.to_string_lossy();
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}' is not a whole number from {min} to {max}"
        )),
    }
}

/// `grace` if `docker stop -t` can take it: it takes whole seconds
/// (orphans::namespace::stop rounds), so at least one.
pub fn docker_grace(grace: Duration) -> Result<Duration, String> {
    if grace < Duration::from_secs(1) {
        Err("`docker stop` takes whole seconds: use --grace 1 or more".into())
    } else {
        Ok(grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced() {
        let ok = |s: &str| Ok(OsString::from(s));
        assert_eq!(seconds(ok("0.5"), 10.0), Ok(Duration::from_millis(500)));
        assert!(seconds(ok("11"), 10.0).is_err());
        assert!(seconds(ok("-1"), 10.0).is_err());
        assert!(seconds(ok("NaN"), 10.0).is_err());
        assert_eq!(count(ok("3"), 1, 5), Ok(3));
        assert!(count(ok("0"), 1, 5).is_err());
        assert!(count(ok("x"), 1, 5).is_err());
    }
}
