//! Translations: every word Meterdeck shows a person, in the Fluent files
//! `locales/<lang>/{ui,core,mail,forms,cloud}.ftl` at the repository root, shared with
//! the window (ui/src/i18n.ts loads the same files). They are compiled into
//! the binary, so nothing is read at run time.
//!
//! A thin lookup: [`tr`] formats a message in a language, falls back to
//! English and then to the key itself; it never panics, whatever the
//! language, key or arguments. Keys may be written with dots like the UI's
//! (`notify.alarm.title`); [`fluent_id`] maps them to Fluent ids.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The languages with translation files, English first (the fallback).
pub const LANGUAGES: [&str; 3] = ["en", "ja", "de"];

/// The translation files of one language, in load order (named in test failures).
#[cfg(test)]
pub(crate) const FILES: [&str; 5] = ["ui.ftl", "core.ftl", "mail.ftl", "forms.ftl", "cloud.ftl"];

/// The files' text per language, [`LANGUAGES`] order, [`FILES`] order.
pub(crate) const SOURCES: [[&str; 5]; 3] = [
    [
        include_str!("../../locales/en/ui.ftl"),
        include_str!("../../locales/en/core.ftl"),
        include_str!("../../locales/en/mail.ftl"),
        include_str!("../../locales/en/forms.ftl"),
        include_str!("../../locales/en/cloud.ftl"),
    ],
    [
        include_str!("../../locales/ja/ui.ftl"),
        include_str!("../../locales/ja/core.ftl"),
        include_str!("../../locales/ja/mail.ftl"),
        include_str!("../../locales/ja/forms.ftl"),
        include_str!("../../locales/ja/cloud.ftl"),
    ],
    [
        include_str!("../../locales/de/ui.ftl"),
        include_str!("../../locales/de/core.ftl"),
        include_str!("../../locales/de/mail.ftl"),
        include_str!("../../locales/de/forms.ftl"),
        include_str!("../../locales/de/cloud.ftl"),
    ],
];

/// `lang` when Meterdeck has it, else English. Accepts a region or
/// encoding suffix (`de-AT`, `ja_JP.UTF-8`).
pub fn language(lang: &str) -> &'static str {
    let base = lang.split(['-', '_', '.']).next().unwrap_or("").to_ascii_lowercase();
    LANGUAGES.iter().copied().find(|l| *l == base).unwrap_or("en")
}

/// The Fluent id of a key: `.`->`-`, `-`->`_`, `_`->`__`, `<` `>` `=` ->
/// `_lt` `_gt` `_eq` (the rule of ui/src/i18n.ts and scripts/i18n-import).
/// A key without a dot is already a Fluent id (`notify-alarm-raise`, as
/// core.ftl and mail.ftl name theirs) and is returned as is; the UI's keys
/// all have a section before a dot.
pub fn fluent_id(key: &str) -> Cow<'_, str> {
    if !key.contains('.') {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        match c {
            '.' => out.push('-'),
            '-' => out.push('_'),
            '_' => out.push_str("__"),
            '>' => out.push_str("_gt"),
            '<' => out.push_str("_lt"),
            '=' => out.push_str("_eq"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn bundle(lang: &'static str) -> &'static FluentBundle<FluentResource> {
    static BUNDLES: [OnceLock<FluentBundle<FluentResource>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = LANGUAGES.iter().position(|l| *l == lang).unwrap_or(0);
    BUNDLES[i].get_or_init(|| {
        let id = LANGUAGES[i].parse().unwrap_or_default();
        let mut b = FluentBundle::new_concurrent(vec![id]);
        // No bidi isolation marks around arguments: they would end up in
        // notification titles, mail subjects and log lines.
        b.set_use_isolating(false);
        for text in SOURCES[i] {
            // A file with a syntax error still yields its good messages (the
            // completeness test fails on any error).
            let res = FluentResource::try_new(text.to_string()).unwrap_or_else(|(res, _)| res);
            let _ = b.add_resource(res);
        }
        b
    })
}

fn format(lang: &'static str, id: &str, args: Option<&FluentArgs>) -> Option<String> {
    let b = bundle(lang);
    let pattern = b.get_message(id)?.value()?;
    let mut errors = Vec::new();
    Some(b.format_pattern(pattern, args, &mut errors).into_owned())
}

/// The message `key` in `lang` (English when `lang` has no file or lacks
/// the key; the key itself when English lacks it too), with `{ $name }`
/// placeholders filled from `args`. Values are text: a number is shown as
/// the caller formatted it (Fluent would group 1234 as "1,234").
pub fn tr(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let id = fluent_id(key);
    let fargs = (!args.is_empty()).then(|| {
        let mut a = FluentArgs::with_capacity(args.len());
        for (k, v) in args {
            a.set(*k, FluentValue::from(*v));
        }
        a
    });
    let lang = language(lang);
    format(lang, &id, fargs.as_ref())
        .or_else(|| if lang == "en" { None } else { format("en", &id, fargs.as_ref()) })
        .unwrap_or_else(|| key.to_string())
}

/// A message kept as its key and arguments rather than as words, so each
/// reader sees it in their own language: events are stored this way and the
/// window shows them in its language, whenever it reads them. An argument
/// may itself be such a message (the instrument error quoted by "poll
/// failed: ...").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Text {
    pub key: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<BTreeMap<String, TextArg>>"))]
    pub args: BTreeMap<String, TextArg>,
}

/// One argument of a [`Text`]: plain words (a name, a number, an OS error)
/// or another translatable message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum TextArg {
    Plain(String),
    Text(Box<Text>),
}

impl Text {
    pub fn new(key: &str) -> Text {
        Text { key: key.to_string(), args: BTreeMap::new() }
    }

    /// Words that have no translation (what an OS, a library or an
    /// instrument said): shown as they are in every language.
    pub fn plain(words: impl Into<String>) -> Text {
        Text::new("text.plain").arg("text", words)
    }

    /// Adds a plain argument.
    pub fn arg(mut self, name: &str, value: impl Into<String>) -> Text {
        self.args.insert(name.to_string(), TextArg::Plain(value.into()));
        self
    }

    /// Adds an argument that is itself translated.
    pub fn text_arg(mut self, name: &str, value: Text) -> Text {
        self.args.insert(name.to_string(), TextArg::Text(Box::new(value)));
        self
    }

    /// The words in `lang` (see [`tr`]); nested messages in the same language.
    pub fn render(&self, lang: &str) -> String {
        self.render_depth(lang, 0)
    }

    fn render_depth(&self, lang: &str, depth: usize) -> String {
        let values: Vec<(&str, String)> = self
            .args
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    TextArg::Plain(s) => s.clone(),
                    // Stored text comes back from disk and the network: a
                    // pathological nesting is cut, not followed.
                    TextArg::Text(t) if depth < 8 => t.render_depth(lang, depth + 1),
                    TextArg::Text(t) => t.key.clone(),
                };
                (k.as_str(), s)
            })
            .collect();
        let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        tr(lang, &self.key, &pairs)
    }
}

/// English: what logs and the code's own error Display print, and what the
/// English translation file must read exactly.
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render("en"))
    }
}

/// Whether `key` exists in English (the reference language).
pub fn has(key: &str) -> bool {
    bundle("en").has_message(&fluent_id(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast;
    use std::collections::{BTreeMap, BTreeSet};

    /// Every message id of a file and the variables it uses (in any
    /// variant of a selector, in function and term arguments).
    fn messages(lang: &str, file: &str, text: &str) -> BTreeMap<String, BTreeSet<String>> {
        let res = match fluent_syntax::parser::parse(text) {
            Ok(r) => r,
            Err((_, errors)) => panic!("locales/{lang}/{file} does not parse: {errors:?}"),
        };
        fn expr(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
            match e {
                ast::Expression::Select { selector, variants } => {
                    inline(selector, out);
                    for v in variants {
                        pattern(&v.value, out);
                    }
                }
                ast::Expression::Inline(i) => inline(i, out),
            }
        }
        fn inline(i: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
            match i {
                ast::InlineExpression::VariableReference { id } => {
                    out.insert(id.name.to_string());
                }
                ast::InlineExpression::FunctionReference { arguments, .. } => {
                    arguments.positional.iter().for_each(|a| inline(a, out));
                    arguments.named.iter().for_each(|a| inline(&a.value, out));
                }
                ast::InlineExpression::TermReference { arguments: Some(arguments), .. } => {
                    arguments.positional.iter().for_each(|a| inline(a, out));
                    arguments.named.iter().for_each(|a| inline(&a.value, out));
                }
                ast::InlineExpression::Placeable { expression } => expr(expression, out),
                _ => {}
            }
        }
        fn pattern(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
            for el in &p.elements {
                if let ast::PatternElement::Placeable { expression } = el {
                    expr(expression, out);
                }
            }
        }
        let mut out = BTreeMap::new();
        for entry in &res.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                match &m.value {
                    Some(p) => pattern(p, &mut vars),
                    None => panic!("locales/{lang}/{file}: message {} has no value", m.id.name),
                }
                for a in &m.attributes {
                    pattern(&a.value, &mut vars);
                }
                let dup = out.insert(m.id.name.to_string(), vars);
                assert!(dup.is_none(), "locales/{lang}/{file}: {} is defined twice", m.id.name);
            }
        }
        out
    }

    #[test]
    fn every_key_exists_in_every_language_with_the_same_placeholders() {
        let mut all_ids = BTreeSet::new();
        for (f, file) in FILES.iter().enumerate() {
            let en = messages("en", file, SOURCES[0][f]);
            assert!(!en.is_empty(), "locales/en/{file} has no messages");
            for id in en.keys() {
                assert!(all_ids.insert(id.clone()), "{id} is defined in two files (locales/en/{file} and another)");
            }
            for (l, lang) in LANGUAGES.iter().enumerate().skip(1) {
                let other = messages(lang, file, SOURCES[l][f]);
                let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
                assert!(missing.is_empty(), "locales/{lang}/{file} lacks {} keys: {missing:?}", missing.len());
                let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
                assert!(extra.is_empty(), "locales/{lang}/{file} has keys English lacks: {extra:?}");
                for (id, vars) in &en {
                    assert_eq!(
                        &other[id], vars,
                        "locales/{lang}/{file}: {id} must use the same placeholders as English"
                    );
                }
            }
        }
    }

    #[test]
    fn every_file_loads_into_its_bundle_without_errors() {
        for (l, lang) in LANGUAGES.iter().enumerate() {
            let id = lang.parse().unwrap();
            let mut b = FluentBundle::new_concurrent(vec![id]);
            for (f, text) in SOURCES[l].iter().enumerate() {
                let res = FluentResource::try_new(text.to_string())
                    .unwrap_or_else(|(_, e)| panic!("locales/{lang}/{}: {e:?}", FILES[f]));
                b.add_resource(res).unwrap_or_else(|e| panic!("locales/{lang}/{}: {e:?}", FILES[f]));
            }
        }
    }

    #[test]
    fn ids_map_from_dotted_keys_without_collisions() {
        assert_eq!(fluent_id("nav.monitor"), "nav-monitor");
        assert_eq!(fluent_id("special.no-data"), "special-no_data");
        assert_eq!(fluent_id("rules.op.>="), "rules-op-_gt_eq");
        assert_eq!(fluent_id("rules.op.outside_incl"), "rules-op-outside__incl");
        assert_eq!(fluent_id("plainId"), "plainId");
        assert_eq!(fluent_id("notify-alarm-raise"), "notify-alarm-raise");
        assert_eq!(fluent_id("rules-op-_gt_eq"), "rules-op-_gt_eq");
    }

    #[test]
    fn looks_up_with_fallbacks_and_never_panics() {
        assert_eq!(tr("en", "nav.monitor", &[]), "Monitor");
        assert_eq!(tr("ja", "nav.monitor", &[]), "モニター");
        assert_eq!(tr("de", "nav.monitor", &[]), "Monitor");
        assert_eq!(tr("ja-JP", "nav.monitor", &[]), "モニター");
        // Unknown language: English. Unknown key: the key.
        assert_eq!(tr("xx", "nav.monitor", &[]), "Monitor");
        assert_eq!(tr("de", "no.such.key", &[]), "no.such.key");
        assert_eq!(tr("", "", &[]), "");
        // Placeholders: text as given (no digit grouping, no isolation marks);
        // a missing argument does not panic.
        assert_eq!(tr("en", "age.s", &[("n", "1234")]), "1234s ago");
        assert!(tr("en", "age.s", &[]).contains("ago"));
        assert!(tr("en", "age.s", &[("n", "5"), ("extra", "x")]).starts_with('5'));
        assert_eq!(tr("de", "notify-alarm-return", &[("name", "Kessel")]), "Wieder normal: Kessel");
        assert_eq!(tr("de", "mail-reset-subject", &[]), "Meterdeck-Passwort zurücksetzen");
        assert!(has("nav.monitor"));
        assert!(!has("nav.nothing"));
    }
}
