//! foster's `CHANGELOG.md` (listings/foster), read once and written in
//! the two forms the packages need: Debian's (deb-changelog(5), installed
//! as `/usr/share/doc/foster/changelog.gz`) and RPM's `%changelog`.
//!
//! The file's shape: a section `## VERSION (YYYY-MM-DD)` per release,
//! newest first, each a list of `- ` items whose continuation lines are
//! indented. Anything else (the title, a note under it) is not a release.

/// One release's section.
#[derive(Debug, PartialEq)]
pub struct Release {
    pub version: String,
    pub date: Date,
    /// Each item as one line of text (its continuation lines joined).
    pub items: Vec<String>,
}

/// A calendar day (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Date {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

impl Date {
    /// `YYYY-MM-DD`, a day that exists.
    fn parse(text: &str) -> Option<Date> {
        let mut fields = text.splitn(3, '-');
        let year = fields.next()?.parse().ok()?;
        let month = fields.next()?.parse().ok()?;
        let day = fields.next()?.parse().ok()?;
        let date = Date { year, month, day };
        let valid = (1..=12).contains(&month)
            && day >= 1
            && Date::from_days(date.days_since_epoch()) == date;
        valid.then_some(date)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(self) -> i64 {
        let year = self.year - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from((self.month + 9) % 12); // March is 0
        let day_of_year = (153 * month + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The inverse of `days_since_epoch` (`civil_from_days`).
    fn from_days(days: i64) -> Date {
        let days = days + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
        let month = (month_from_march + 2) % 12 + 1;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date {
            year,
            month: month as u32,
            day,
        }
    }

    /// Seconds since the epoch at midnight UTC: the packages'
    /// `SOURCE_DATE_EPOCH`, so that a release's files do not depend on
    /// when they were built.
    pub fn epoch_seconds(self) -> i64 {
        self.days_since_epoch() * 86_400
    }

    fn weekday(self) -> &'static str {
        WEEKDAYS[self.days_since_epoch().rem_euclid(7) as usize]
    }

    fn month_name(self) -> &'static str {
        MONTHS[(self.month - 1) as usize]
    }
}

/// Every release in `text`, newest first as written; an error names the
/// line that does not fit.
pub fn parse(text: &str) -> Result<Vec<Release>, String> {
    let mut releases: Vec<Release> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let at = |what: &str| format!("CHANGELOG.md line {}: {what}", number + 1);
        if let Some(heading) = line.strip_prefix("## ") {
            releases
                .push(parse_heading(heading).ok_or_else(|| {
                    at("a release is `## VERSION (YYYY-MM-DD)` with a real date")
                })?);
        } else if let Some(release) = releases.last_mut() {
            if let Some(item) = line.strip_prefix("- ") {
                release.items.push(item.trim().to_string());
            } else if line.starts_with("  ") && !line.trim().is_empty() {
                let item = release
                    .items
                    .last_mut()
                    .ok_or_else(|| at("an indented line before any `- ` item"))?;
                item.push(' ');
                item.push_str(line.trim());
            } else if !line.trim().is_empty() {
                return Err(at("a release holds only `- ` items"));
            }
        }
    }
    match releases.iter().find(|release| release.items.is_empty()) {
        Some(empty) => Err(format!("CHANGELOG.md: {} lists no change", empty.version)),
        None => Ok(releases),
    }
}

fn parse_heading(heading: &str) -> Option<Release> {
    let (version, date) = heading.trim().split_once(" (")?;
    Some(Release {
        version: version.to_string(),
        date: Date::parse(date.strip_suffix(')')?)?,
        items: Vec::new(),
    })
}

/// The releases as deb-changelog(5): an entry per release, each item a
/// `  * ` line, signed by `maintainer` at midnight UTC of its day.
pub fn debian(package: &str, maintainer: &str, releases: &[Release]) -> String {
    let mut out = String::new();
    for release in releases {
        out += &format!(
            "{package} ({}) unstable; urgency=medium\n\n",
            release.version
        );
        for item in &release.items {
            out += &wrap(item, "  * ", "    ");
        }
        let date = release.date;
        out += &format!(
            "\n -- {maintainer}  {}, {:02} {} {} 00:00:00 +0000\n\n",
            date.weekday(),
            date.day,
            date.month_name(),
            date.year
        );
    }
    out.pop(); // one blank line between entries, none at the end
    out
}

/// The releases as an RPM spec's `%changelog` body (without the tag).
pub fn rpm(maintainer: &str, release_number: u32, releases: &[Release]) -> String {
    let mut out = String::new();
    for release in releases {
        let date = release.date;
        out += &format!(
            "* {} {} {:02} {} {maintainer} - {}-{release_number}\n",
            date.weekday(),
            date.month_name(),
            date.day,
            date.year,
            release.version
        );
        for item in &release.items {
            out += &wrap(item, "- ", "  ");
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// `text` in lines of at most 79 columns, the first after `first`, the
/// others after `rest`.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.len() + 1 + word.len() > 79 {
            out += &line;
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line += word;
        empty = false;
    }
    out + &line + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "# Changes\n\nA note.\n\n## 0.2.0 (2024-02-29)\n\n- Two\n  lines.\n- One.\n\n\
                        ## 0.1.0 (1970-01-01)\n\n- First.\n";

    #[test]
    fn reads_releases_and_items() {
        let releases = parse(TEXT).unwrap();
        assert_eq!(releases.len(), 2);
        assert_eq!(releases[0].version, "0.2.0");
        assert_eq!(releases[0].items, ["Two lines.", "One."]);
        assert_eq!(releases[1].date.epoch_seconds(), 0);
    }

    #[test]
    fn dates_and_weekdays() {
        // 2024-02-29 was a Thursday; 2000-03-01 a Wednesday; 1969-12-31 a Wednesday.
        let leap = Date::parse("2024-02-29").unwrap();
        assert_eq!((leap.weekday(), leap.days_since_epoch()), ("Thu", 19_782));
        assert_eq!(Date::parse("2000-03-01").unwrap().weekday(), "Wed");
        assert_eq!(
            Date::from_days(-1),
            Date {
                year: 1969,
                month: 12,
                day: 31
            }
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "today",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "## 0.1.0\n- x\n",
            "## 0.1.0 (2024-02-30)\n- x\n",
            "## 0.1.0 (2024-01-01)\nprose\n",
            "## 0.1.0 (2024-01-01)\n",
            "## 0.1.0 (2024-01-01)\n  indented first\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debian_and_rpm_forms() {
        let releases = parse(TEXT).unwrap();
        let debian = debian("foster", "A <a@b.c>", &releases);
        assert!(debian.starts_with("foster (0.2.0) unstable; urgency=medium\n\n  * Two lines.\n"));
        assert!(
            debian.contains("\n -- A <a@b.c>  Thu, 29 Feb 2024 00:00:00 +0000\n\nfoster (0.1.0)")
        );
        assert!(debian.ends_with(" -- A <a@b.c>  Thu, 01 Jan 1970 00:00:00 +0000\n"));
        let rpm = rpm("A <a@b.c>", 1, &releases);
        assert!(rpm.starts_with("* Thu Feb 29 2024 A <a@b.c> - 0.2.0-1\n- Two lines.\n- One.\n\n"));
        assert!(rpm.ends_with("* Thu Jan 01 1970 A <a@b.c> - 0.1.0-1\n- First.\n"));
    }

    #[test]
    fn wraps_long_items() {
        let long = "word ".repeat(40);
        let text = wrap(long.trim(), "  * ", "    ");
        assert!(text.lines().all(|line| line.len() <= 79));
        assert!(text.lines().skip(1).all(|line| line.starts_with("    w")));
        assert_eq!(text.split_whitespace().filter(|w| *w == "word").count(), 40);
    }
}
