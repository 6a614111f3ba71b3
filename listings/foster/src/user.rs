//! `-u USER[:GROUP]`: the command runs as another user, as `gosu` or
//! `su-exec` would run it, while foster keeps its own privileges to signal
//! and reap every process. A static binary has no NSS (the C library's
//! name service, nsswitch.conf(5)), so foster reads the image's
//! `/etc/passwd` (passwd(5)) and `/etc/group` (group(5)) itself. The
//! meaning is Docker's `--user`: a number that `/etc/passwd` does not list
//! runs with group 0 and `HOME=/`.

use std::ffi::OsString;

// ANCHOR: identity
/// A user or a group as given: a name, or a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    Name(String),
    Id(u32),
}

/// `USER[:GROUP]` as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSpec {
    pub user: Who,
    pub group: Option<Who>,
}

/// Who the command runs as, found before it starts (the child, between
/// fork and exec, may not allocate or read files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (setgroups(2)), the primary one included, as
    /// initgroups(3) makes them; sorted.
    pub groups: Vec<u32>,
    pub home: OsString,
}
// ANCHOR_END: identity

/// The largest ID: -1 as a 32-bit number means "no change" to
/// setuid(2)'s relatives, so no user or group may have it.
const MAX_ID: u32 = u32::MAX - 1;

/// The kernel's bound on supplementary groups (NGROUPS_MAX, 65536 since
/// Linux 2.6.4: setgroups(2)).
const MAX_GROUPS: usize = 65536;

impl UserSpec {
    /// `app`, `app:staff`, `1000`, `1000:1000`. `Err` is a message for the
    /// user (a usage error).
    pub fn parse(text: &str) -> Result<UserSpec, String> {
        let bad = |why: &str| format!("-u takes USER[:GROUP] ({why}), not '{text}'");
        let (user, group) = match text.split_once(':') {
            Some((user, group)) => (user, Some(group)),
            None => (text, None),
        };
        let who = |part: &str, what: &str| -> Result<Who, String> {
            if part.is_empty() {
                return Err(bad(&format!("an empty {what}")));
            }
            if part.contains(':') {
                return Err(bad("one colon at most"));
            }
            match part.parse::<u64>() {
                Ok(id) => u32::try_from(id)
                    .ok()
                    .filter(|&id| id <= MAX_ID)
                    .map(Who::Id)
                    .ok_or_else(|| bad(&format!("a number from 0 to {MAX_ID}"))),
                Err(_) => Ok(Who::Name(part.to_string())),
            }
        };
        Ok(UserSpec {
            user: who(user, "user")?,
            group: group.map(|g| who(g, "group")).transpose()?,
        })
    }

    /// The identity from the image's files: [`UserSpec::resolve`] with
    /// `/etc/passwd` and `/etc/group`. A file that cannot be read counts
    /// as empty, so names fail and numbers still work.
    pub fn resolve_here(&self) -> Result<Identity, String> {
        let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
        self.resolve(read("/etc/passwd"), read("/etc/group"))
    }

    /// The identity this asks for, given the text of `/etc/passwd` and
    /// `/etc/group` (or why each could not be read). `Err` says what is
    /// missing, in one line.
    pub fn resolve(
        &self,
        passwd: Result<String, String>,
        group: Result<String, String>,
    ) -> Result<Identity, String> {
        let passwd_text = passwd.as_deref().unwrap_or_default();
        let entry = passwd_text
            .lines()
            .filter_map(PasswdEntry::parse)
            .find(|e| match &self.user {
                Who::Name(name) => e.name == name,
                Who::Id(id) => e.uid == *id,
            });
        let (uid, mut gid, home, name) = match (&self.user, entry) {
            (_, Some(e)) => (e.uid, e.gid, e.home, Some(e.name)),
            (Who::Id(id), None) => (*id, 0, "/", None),
            (Who::Name(name), None) => {
                let why = passwd.err().unwrap_or_else(|| "/etc/passwd".into());
                return Err(format!("no user '{name}' in {why}"));
            }
        };
        let group_text = group.as_deref().unwrap_or_default();
        let groups = group_text.lines().filter_map(GroupEntry::parse);
        let mut supplementary = Vec::new();
        match &self.group {
            Some(Who::Id(id)) => gid = *id,
            Some(Who::Name(wanted)) => match groups.clone().find(|g| g.name == wanted) {
                Some(g) => gid = g.gid,
                None => {
                    let why = group.err().unwrap_or_else(|| "/etc/group".into());
                    return Err(format!("no group '{wanted}' in {why}"));
                }
            },
            // No group given: every group that lists the user by name.
            None => {
                let member =
                    |g: &GroupEntry| name.is_some_and(|n| g.members.split(',').any(|m| m == n));
                supplementary.extend(groups.filter(member).map(|g| g.gid));
            }
        }
        supplementary.push(gid);
        supplementary.sort_unstable();
        supplementary.dedup();
        supplementary.truncate(MAX_GROUPS);
        let home = if home.is_empty() { "/" } else { home };
        Ok(Identity {
            uid,
            gid,
            groups: supplementary,
            home: home.into(),
        })
    }
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Name(name) => write!(f, "{name}"),
            Who::Id(id) => write!(f, "{id}"),
        }
    }
}

/// `name:password:UID:GID:comment:home:shell` (passwd(5)); lines that do
/// not have that shape (comments, NIS's `+`) are skipped.
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

impl<'a> PasswdEntry<'a> {
    fn parse(line: &'a str) -> Option<PasswdEntry<'a>> {
        let mut fields = line.split(':');
        let name = fields
            .next()
            .filter(|n| !n.is_empty() && !n.starts_with(['#', '+', '-']))?;
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok().filter(|&id| id <= MAX_ID)?;
        let gid = fields.next()?.parse().ok().filter(|&id| id <= MAX_ID)?;
        let _comment = fields.next()?;
        let home = fields.next()?;
        Some(PasswdEntry {
            name,
            uid,
            gid,
            home,
        })
    }
}

/// `name:password:GID:user1,user2` (group(5)).
#[derive(Clone)]
struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: &'a str,
}

impl<'a> GroupEntry<'a> {
    fn parse(line: &'a str) -> Option<GroupEntry<'a>> {
        let mut fields = line.split(':');
        let name = fields
            .next()
            .filter(|n| !n.is_empty() && !n.starts_with(['#', '+', '-']))?;
        let _password = fields.next()?;
        let gid = fields.next()?.parse().ok().filter(|&id| id <= MAX_ID)?;
        let members = fields.next().unwrap_or("");
        Some(GroupEntry { name, gid, members })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "daemon:x:1:1:daemon:/usr/sbin:/bin/sh\n\
        # a comment\n\
        app:x:1000:1000:App:/srv/app:/bin/sh\n\
        nohome:x:1001:1001:::/bin/sh\n\
        +nis\n\
        broken:x:notanumber:1:::\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:app,other\napp:x:1000:\naudio:x:29:other,app\n";

    fn resolve(spec: &str) -> Result<Identity, String> {
        UserSpec::parse(spec)?.resolve(Ok(PASSWD.into()), Ok(GROUP.into()))
    }

    #[test]
    fn a_name_gives_its_ids_groups_and_home() {
        let app = resolve("app").expect("app");
        assert_eq!((app.uid, app.gid), (1000, 1000));
        assert_eq!(app.groups, [29, 50, 1000]);
        assert_eq!(app.home, "/srv/app");
        assert_eq!(resolve("1000"), Ok(app));
        assert_eq!(resolve("nohome").map(|i| i.home), Ok("/".into()));
    }

    #[test]
    fn a_group_given_replaces_the_groups() {
        let staff = resolve("app:staff").expect("app:staff");
        assert_eq!((staff.uid, staff.gid, staff.groups), (1000, 50, vec![50]));
        assert_eq!(resolve("app:7").map(|i| i.groups), Ok(vec![7]));
    }

    #[test]
    fn an_unlisted_number_runs_with_group_0_as_in_docker() {
        let id = resolve("4242").expect("4242");
        assert_eq!(
            (id.uid, id.gid, id.groups, id.home),
            (4242, 0, vec![0], "/".into())
        );
        let missing = UserSpec::parse("4242:5").expect("parse");
        let no_files = missing.resolve(
            Err("/etc/passwd: gone".into()),
            Err("/etc/group: gone".into()),
        );
        assert_eq!(no_files.map(|i| (i.uid, i.gid)), Ok((4242, 5)));
    }

    #[test]
    fn names_that_are_not_there_say_so() {
        assert_eq!(
            resolve("nobody"),
            Err("no user 'nobody' in /etc/passwd".into())
        );
        assert_eq!(
            resolve("app:wheel"),
            Err("no group 'wheel' in /etc/group".into())
        );
        assert_eq!(
            resolve("broken").map(|_| ()),
            Err("no user 'broken' in /etc/passwd".into())
        );
        assert_eq!(
            resolve("+nis").map(|_| ()),
            Err("no user '+nis' in /etc/passwd".into())
        );
        let spec = UserSpec::parse("app").expect("parse");
        let gone = spec.resolve(Err("/etc/passwd: No such file".into()), Ok(String::new()));
        assert_eq!(
            gone,
            Err("no user 'app' in /etc/passwd: No such file".into())
        );
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        for bad in [
            "",
            ":",
            "app:",
            ":staff",
            "a:b:c",
            "4294967295",
            "99999999999",
            "1:4294967295",
        ] {
            assert!(UserSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            UserSpec::parse("0:4294967294"),
            Ok(UserSpec {
                user: Who::Id(0),
                group: Some(Who::Id(MAX_ID))
            })
        );
    }
}
