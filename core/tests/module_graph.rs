//! Keeps core's top-level modules free of import cycles (issue 11): data
//! flows poll -> calc -> store -> alarm -> outbox -> sync with desk beside
//! it, and `agent` wires them; a module that imports one that imports it
//! back hides that flow.
//!
//! Reads every file under `core/src`, collects the top-level module each
//! `crate::x` path points to (`use crate::x::..`, `use crate::{x, y}` groups,
//! inline `crate::x::y` paths, and `super::` chains that climb to the crate
//! root), ignoring comments and string literals, and fails naming every
//! cycle of the resulting graph with a line that makes each edge.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// Modules left out of the engine's graph (none: the command line lives in
/// the `agent-cli` crate).
const LEAVING_CORE: &[&str] = &[];

#[test]
fn top_level_modules_have_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = Graph::of_crate(&src);
    assert!(graph.modules.len() > 5, "no modules found under {}", src.display());
    // The graph, for `-- --nocapture`.
    for m in &graph.modules {
        println!("{m:>10} -> {}", graph.targets(m).cloned().collect::<Vec<_>>().join(", "));
    }
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "import cycles between core's top-level modules (move the shared piece to the module it belongs to, \
         or to a lower one both can import):\n{}",
        cycles.join("\n")
    );
}

/// Top-level module -> modules it imports, with one place that does it.
struct Graph {
    modules: BTreeSet<String>,
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

impl Graph {
    fn of_crate(src: &Path) -> Graph {
        let mut modules = BTreeSet::new();
        for entry in std::fs::read_dir(src).expect("core/src is readable") {
            let path = entry.expect("directory entry").path();
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let is_module = if path.is_dir() { name != "bin" } else { path.extension().is_some_and(|e| e == "rs") };
            if is_module && name != "lib" && name != "main" && !LEAVING_CORE.contains(&name.as_str()) {
                modules.insert(name);
            }
        }
        let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for file in rust_files(src) {
            let rel = file.strip_prefix(src).expect("under src");
            let Some((top, depth)) = module_of(rel) else { continue };
            if !modules.contains(&top) {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("source is UTF-8");
            for (target, line) in root_references(&text, depth) {
                if target != top && modules.contains(&target) {
                    edges
                        .entry(top.clone())
                        .or_default()
                        .entry(target)
                        .or_insert_with(|| format!("{}:{line}", rel.display()));
                }
            }
        }
        Graph { modules, edges }
    }

    fn targets(&self, from: &str) -> impl Iterator<Item = &String> {
        self.edges.get(from).into_iter().flat_map(|m| m.keys())
    }

    /// Shortest path `from` -> .. -> `to`, both included.
    fn path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([from.to_string()]);
        while let Some(m) = queue.pop_front() {
            if m == to {
                let mut path = vec![m];
                while let Some(p) = prev.get(path.last().expect("not empty")) {
                    path.push(p.clone());
                }
                path.reverse();
                return Some(path);
            }
            for t in self.targets(&m) {
                if t != from && !prev.contains_key(t) {
                    prev.insert(t.clone(), m.clone());
                    queue.push_back(t.clone());
                }
            }
        }
        None
    }

    /// One line per distinct cycle: for every edge a -> b that some path
    /// b -> .. -> a closes, the shortest such cycle, with where each edge is.
    fn cycles(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (a, targets) in &self.edges {
            for b in targets.keys() {
                let Some(back) = self.path(b, a) else { continue };
                let mut cycle = vec![a.clone()];
                cycle.extend(back);
                // Rotate so the smallest name leads: one entry per cycle.
                let ring = &cycle[..cycle.len() - 1];
                let start = (0..ring.len()).min_by_key(|&i| &ring[i]).expect("not empty");
                let key: Vec<&String> = ring[start..].iter().chain(&ring[..start]).collect();
                if !seen.insert(format!("{key:?}")) {
                    continue;
                }
                let hops: Vec<String> =
                    cycle.windows(2).map(|w| format!("{} -> {} ({})", w[0], w[1], self.edges[&w[0]][&w[1]])).collect();
                out.push(format!("  {}\n      {}", cycle.join(" -> "), hops.join("\n      ")));
            }
        }
        out
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to and the depth of the module it
/// holds (`agent/mod.rs` and `config.rs`: 1, `agent/writer.rs`: 2).
fn module_of(rel: &Path) -> Option<(String, usize)> {
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    let top = parts.first()?.trim_end_matches(".rs").to_string();
    let last = *parts.last()?;
    let depth = if last == "mod.rs" { parts.len() - 1 } else { parts.len() };
    Some((top, depth))
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Identifiers, `::` and punctuation with their line; comments, string,
/// char and number literals and lifetimes are dropped.
fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' || ((ch == 'r' || ch == 'b') && raw_string_start(&c, i).is_some()) {
            let (hashes, body) = if ch == '"' { (None, i + 1) } else { raw_string_start(&c, i).expect("checked") };
            i = body;
            while i < c.len() {
                match (hashes, c[i]) {
                    (None, '\\') => i += 1,
                    (None, '"') => break,
                    (Some(n), '"') if (1..=n).all(|k| at(i + k) == '#') => {
                        i += n;
                        break;
                    }
                    _ => {}
                }
                line += usize::from(at(i) == '\n');
                i += 1;
            }
            i += 1;
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // '\n', '\'', '\u{..}'
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or label: skip the quote, the name follows.
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.' && at(i + 1).is_ascii_digit()) {
                i += 1;
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(c[start..i].iter().collect()), line));
        } else if ch == ':' && at(i + 1) == ':' {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(ch), line));
            i += 1;
        }
    }
    out
}

/// `r"`, `r#"`, `br"`, `b"`: the number of `#`s (None for `b"`) and where the body starts.
fn raw_string_start(c: &[char], i: usize) -> Option<(Option<usize>, usize)> {
    let prev_ident = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
    if prev_ident {
        return None;
    }
    let mut k = i;
    if c.get(k) == Some(&'b') {
        k += 1;
        if c.get(k) == Some(&'"') {
            return Some((None, k + 1));
        }
    }
    if c.get(k) != Some(&'r') {
        return None;
    }
    k += 1;
    let hashes = c[k..].iter().take_while(|&&h| h == '#').count();
    (c.get(k + hashes) == Some(&'"')).then_some((Some(hashes), k + hashes + 1))
}

/// The top-level modules a file's paths name through the crate root, with
/// the line of each. `depth` is the depth of the file's module.
fn root_references(text: &str, depth: usize) -> Vec<(String, usize)> {
    let toks = tokens(text);
    let ident = |k: usize| match toks.get(k) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    };
    let is = |k: usize, t: &Tok| toks.get(k).is_some_and(|(x, _)| x == t);
    let mut out = Vec::new();
    // Inline modules (`mod tests { .. }`) open at these brace depths.
    let mut inline: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Punct('{') => braces += 1,
            Tok::Punct('}') => {
                if inline.last() == Some(&braces) {
                    inline.pop();
                }
                braces = braces.saturating_sub(1);
            }
            Tok::Ident(w) if w == "mod" && ident(i + 1).is_some() && is(i + 2, &Tok::Punct('{')) => {
                inline.push(braces + 1);
            }
            _ => {}
        }
        let starts_path = i == 0 || !is(i - 1, &Tok::PathSep) && !is(i - 1, &Tok::Punct('$'));
        let root_at = if !starts_path {
            None
        } else if ident(i) == Some("crate") && is(i + 1, &Tok::PathSep) {
            Some(i + 2)
        } else if ident(i) == Some("super") {
            let mut k = i;
            let mut ups = 0;
            while ident(k) == Some("super") && is(k + 1, &Tok::PathSep) {
                ups += 1;
                k += 2;
            }
            (ups > 0 && ups == depth + inline.len()).then_some(k)
        } else {
            None
        };
        if let Some(r) = root_at {
            let line = toks[r.min(toks.len() - 1)].1;
            if let Some(name) = ident(r) {
                out.push((name.to_string(), line));
            } else if is(r, &Tok::Punct('{')) {
                // `crate::{a::b, c, d::{e, f}}`: the names right inside the group.
                let mut level = 0;
                let mut k = r;
                while k < toks.len() {
                    match &toks[k].0 {
                        Tok::Punct('{') => level += 1,
                        Tok::Punct('}') => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                        Tok::Ident(name)
                            if level == 1 && matches!(toks[k - 1].0, Tok::Punct('{') | Tok::Punct(',')) =>
                        {
                            out.push((name.clone(), toks[k].1));
                        }
                        _ => {}
                    }
                    k += 1;
                }
            }
        }
        i += 1;
    }
    out.retain(|(name, _)| name != "self");
    out
}

#[test]
fn references_are_found_in_every_form() {
    let text = r##"
//! Docs naming [`crate::docs_only`] do not count.
use crate::alpha::Thing;
use crate::{beta, gamma::{x, y}, self};
pub(crate) fn f() { let _ = crate::delta::g(); }
const SQL: &str = r#"crate::in_raw_string"#;
const S: &str = "crate::in_string \" crate::still_in_string";
fn g<'a>(c: char) -> &'a str { if c == '"' { "" } else { "" } }
/* block crate::in_block /* nested */ crate::still_in_block */
use super::epsilon;
mod tests {
    use super::*;
    use super::super::zeta::Z;
}
macro_rules! m { () => { $crate::not_ours } }
"##;
    let found: Vec<String> = root_references(text, 1).into_iter().map(|(n, _)| n).collect();
    assert_eq!(found, ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]);
    // Two levels down, one `super` stays inside the top-level module.
    let found: Vec<String> =
        root_references("use super::sibling; use super::super::other;", 2).into_iter().map(|(n, _)| n).collect();
    assert_eq!(found, ["other"]);
}

#[test]
fn a_cycle_is_named_with_its_edges() {
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (a, b) in [("store", "alarm"), ("alarm", "config"), ("config", "store"), ("sync", "store")] {
        edges.entry(a.into()).or_default().insert(b.into(), format!("{a}.rs:1"));
    }
    let g = Graph { modules: ["alarm", "config", "store", "sync"].map(String::from).into(), edges };
    let cycles = g.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].contains("alarm -> config -> store -> alarm"), "{}", cycles[0]);
    assert!(cycles[0].contains("config -> store (config.rs:1)"), "{}", cycles[0]);
}
