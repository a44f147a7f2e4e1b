//! The simulator's own small SCPI command matcher (deliberately not the
//! drivers' parser, so a parser bug cannot hide itself): program units,
//! long/short mnemonic forms, absolute and relative paths.

/// One command or query the instrument knows. `path` uses SCPI's notation:
/// the upper-case prefix of each mnemonic is its short form
/// (`["MEMory", "GETReal"]` accepts `:MEM:GETR` and `:memory:getreal`).
/// Common commands have a one-element path like `["*IDN"]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<C> {
    pub path: &'static [&'static str],
    pub query: bool,
    /// Long-form header printed before a reply when `:HEADer ON`.
    pub header: &'static str,
    pub cmd: C,
}

pub(crate) const fn entry<C>(path: &'static [&'static str], query: bool, header: &'static str, cmd: C) -> Entry<C> {
    Entry { path, query, header, cmd }
}

/// One `;`-separated program unit, borrowed from the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unit<'a> {
    /// The header without leading `:` and trailing `?`.
    pub header: &'a str,
    pub query: bool,
    pub absolute: bool,
    pub common: bool,
    pub args: &'a str,
}

/// Splits `:MEM:VREAL? CH1_1` into its parts; `None` for an empty unit.
pub(crate) fn parse_unit(text: &str) -> Option<Unit<'_>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (header, args) = match text.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => (&text[..i], text[i..].trim()),
        None => (text, ""),
    };
    let query = header.ends_with('?');
    let header = header.strip_suffix('?').unwrap_or(header);
    let absolute = header.starts_with(':');
    let header = header.strip_prefix(':').unwrap_or(header);
    Some(Unit { header, query, absolute, common: header.starts_with('*'), args })
}

/// Does `token` name the mnemonic `pattern` in its long or short form?
pub(crate) fn mnemonic_matches(token: &str, pattern: &str) -> bool {
    let short = pattern.bytes().take_while(|b| !b.is_ascii_lowercase()).count();
    token.eq_ignore_ascii_case(pattern) || token.eq_ignore_ascii_case(&pattern[..short])
}

fn path_matches(path: &[&'static str], prefix: &[&'static str], header: &str) -> bool {
    let Some(rest) = path.strip_prefix(prefix) else { return false };
    let mut tokens = header.split(':');
    for pattern in rest {
        match tokens.next() {
            Some(t) if mnemonic_matches(t, pattern) => {}
            _ => return false,
        }
    }
    tokens.next().is_none()
}

/// Finds the entry a unit names. A unit without a leading `:` is tried
/// relative to `current` (the parent path of the previous command in the
/// line, as SCPI does) and then from the root.
pub(crate) fn lookup<'t, C>(table: &'t [Entry<C>], unit: &Unit<'_>, current: &[&'static str]) -> Option<&'t Entry<C>> {
    let candidates = table.iter().filter(|e| e.query == unit.query);
    if unit.common {
        return candidates.into_iter().find(|e| e.path.len() == 1 && e.path[0].eq_ignore_ascii_case(unit.header));
    }
    if !unit.absolute && !current.is_empty() {
        let found = table.iter().filter(|e| e.query == unit.query).find(|e| path_matches(e.path, current, unit.header));
        if found.is_some() {
            return found;
        }
    }
    candidates.into_iter().find(|e| path_matches(e.path, &[], unit.header))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TABLE: &[Entry<u8>] = &[
        entry(&["*IDN"], true, "", 0),
        entry(&["MEMory", "GETReal"], false, ":MEMORY:GETREAL", 1),
        entry(&["MEMory", "VREAL"], true, ":MEMORY:VREAL", 2),
        entry(&["HEADer"], false, ":HEADER", 3),
        entry(&["HEADer"], true, ":HEADER", 4),
    ];

    fn find(text: &str, current: &[&'static str]) -> Option<u8> {
        let unit = parse_unit(text)?;
        lookup(TABLE, &unit, current).map(|e| e.cmd)
    }

    #[test]
    fn long_and_short_forms() {
        for t in [":MEMory:GETReal", ":MEM:GETR", ":memory:getreal", "MEM:GETREAL", ":Mem:GetR"] {
            assert_eq!(find(t, &[]), Some(1), "{t}");
        }
        for t in [":MEMO:GETR", ":MEM:GET", ":MEM:GETR:X", ":MEM", "::MEM:GETR", ":MEM:GETR?"] {
            assert_eq!(find(t, &[]), None, "{t}");
        }
    }

    #[test]
    fn queries_commands_and_common() {
        assert_eq!(find("*idn?", &[]), Some(0));
        assert_eq!(find("*IDN", &[]), None);
        assert_eq!(find(":HEAD ON", &[]), Some(3));
        assert_eq!(find(":HEADER?", &[]), Some(4));
        let u = parse_unit(" :MEM:VREAL?   CH1_1 ").unwrap();
        assert_eq!(u.args, "CH1_1");
        assert!(u.query && u.absolute && !u.common);
    }

    #[test]
    fn relative_paths() {
        assert_eq!(find("VREAL? CH1_1", &["MEMory"]), Some(2));
        assert_eq!(find("VREAL? CH1_1", &[]), None);
        assert_eq!(find("HEAD ON", &["MEMory"]), Some(3));
    }

    proptest! {
        #[test]
        fn never_panics(line in "\\PC{0,40}") {
            for part in line.split(';') {
                if let Some(u) = parse_unit(part) {
                    let _ = lookup(TABLE, &u, &["MEMory"]);
                }
            }
        }
    }
}
