//! The `[[calc]]` table (same shape as JSON for the UI) and its checks.
//!
//! Errors name the field as `calc[<id>].<field>` (`calc.id` while the id itself
//! is unusable), and carry the 1-based column in `expr` where there is one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use meterdeck_wire::i18n::Text;
use serde::{Deserialize, Serialize};

use super::engine::{OUTPUT_INSTRUMENT, output_path};
use super::parse::{Expr, is_variable_name, parse};

pub const MAX_ID_CHARS: usize = 64;
pub const MAX_INPUTS: usize = 10;
pub const MAX_NAME_CHARS: usize = 128;
pub const MAX_UNIT_CHARS: usize = 32;
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(1);
/// Longest tolerance: beyond the longest poll interval it only joins stale data.
pub const MAX_TOLERANCE: Duration = Duration::from_secs(3600);

/// One `[[calc]]` table, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct CalcConfig {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub expr: String,
    /// Variable name -> channel path `instrument/channel`.
    pub inputs: BTreeMap<String, String>,
    /// Inputs whose sample times are within this of each other form one cycle.
    /// A duration such as `"2s"`; optional in TypeScript (the default applies).
    #[serde(default = "default_tolerance", with = "humantime_serde")]
    #[ts(as = "Option<String>", optional)]
    pub tolerance: Duration,
}

fn default_tolerance() -> Duration {
    DEFAULT_TOLERANCE
}

/// A checked calculation, ready for the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledCalc {
    pub id: String,
    /// `None` when absent or blank.
    pub name: Option<String>,
    /// `None` when absent or blank.
    pub unit: Option<String>,
    pub expr: Expr,
    /// Channel paths; `inputs[i]` feeds `expr.vars()[i]`.
    pub inputs: Vec<String>,
    pub tolerance: Duration,
}

impl CompiledCalc {
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// `calc/<id>`, the channel it is stored as.
    pub fn output_path(&self) -> String {
        output_path(&self.id)
    }
}

/// A refused calculation; `{field, message, position?}` as JSON for the UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CalcError {
    /// E.g. `calc[total_power].expr` or `calc[total_power].inputs.A`.
    pub field: String,
    /// `text` in English.
    pub message: String,
    /// 1-based column in `expr`, for errors in the expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// The message in any language (locales/*/forms.ftl).
    #[serde(skip)]
    pub text: Text,
}

impl CalcError {
    pub fn new(field: impl Into<String>, text: Text, position: Option<usize>) -> CalcError {
        CalcError { field: field.into(), message: text.to_string(), position, text }
    }
}

impl CalcConfig {
    /// Checks one calculation on its own; [`validate_all`] also checks how
    /// calculations refer to each other.
    pub fn validate(&self) -> Result<CompiledCalc, CalcError> {
        check_id(&self.id)?;
        let at = |field: &str, text: Text| CalcError::new(format!("calc[{}].{field}", self.id), text, None);
        let name = check_text(self.name.as_deref(), MAX_NAME_CHARS).map_err(|m| at("name", m.text("name")))?;
        let unit = check_text(self.unit.as_deref(), MAX_UNIT_CHARS).map_err(|m| at("unit", m.text("unit")))?;
        if self.tolerance > MAX_TOLERANCE {
            let got = humantime::format_duration(self.tolerance).to_string();
            return Err(at("tolerance", Text::new("form-calc-tolerance").arg("got", got)));
        }
        if self.inputs.is_empty() {
            return Err(at("inputs", Text::new("form-calc-no-inputs")));
        }
        if self.inputs.len() > MAX_INPUTS {
            let text = Text::new("form-calc-too-many-inputs")
                .arg("max", MAX_INPUTS.to_string())
                .arg("got", self.inputs.len().to_string());
            return Err(at("inputs", text));
        }
        for (var, path) in &self.inputs {
            let field = format!("inputs.{var}");
            if !is_variable_name(var) {
                return Err(at(&field, Text::new("form-calc-bad-input-name").arg("var", var)));
            }
            check_path(path).map_err(|m| at(&field, m.text(var)))?;
            if *path == output_path(&self.id) {
                return Err(at(&field, Text::new("form-calc-own-output").arg("var", var).arg("path", path)));
            }
        }
        let expr = parse(&self.expr)
            .map_err(|e| CalcError::new(format!("calc[{}].expr", self.id), e.text_with_column(), Some(e.position)))?;
        for v in expr.vars() {
            if !self.inputs.contains_key(&v.name) {
                let known: Vec<&str> = self.inputs.keys().map(String::as_str).collect();
                let text = Text::new("form-expr-column").arg("column", v.column.to_string()).text_arg(
                    "message",
                    Text::new("form-calc-not-an-input").arg("name", &v.name).arg("inputs", known.join(", ")),
                );
                return Err(CalcError::new(format!("calc[{}].expr", self.id), text, Some(v.column)));
            }
        }
        let used = expr.variable_names();
        if let Some(unused) = self.inputs.keys().find(|k| !used.contains(k.as_str())) {
            return Err(at(&format!("inputs.{unused}"), Text::new("form-calc-unused-input").arg("var", unused)));
        }
        let inputs = expr.vars().iter().map(|v| self.inputs[&v.name].clone()).collect();
        Ok(CompiledCalc { id: self.id.clone(), name, unit, expr, inputs, tolerance: self.tolerance })
    }
}

/// Checks every calculation and how they use each other's outputs: ids are
/// unique, a `calc/<id>` input names a calculation, and there are no loops.
/// Returns them ordered so that a calculation comes after those it uses
/// (otherwise in the given order).
pub fn validate_all(calcs: &[CalcConfig]) -> Result<Vec<CompiledCalc>, CalcError> {
    let compiled = calcs.iter().map(CalcConfig::validate).collect::<Result<Vec<_>, _>>()?;
    let mut ids = HashMap::new();
    for c in &compiled {
        if ids.insert(c.id.as_str(), ()).is_some() {
            let text = Text::new("form-calc-duplicate-id").arg("id", &c.id);
            return Err(CalcError::new(format!("calc[{}].id", c.id), text, None));
        }
    }
    for c in &compiled {
        for (i, path) in c.inputs.iter().enumerate() {
            if let Some(other) = calc_input(path)
                && !ids.contains_key(other)
            {
                let var = &c.expr.vars()[i].name;
                let text = Text::new("form-calc-unknown-calc").arg("var", var).arg("calc", other).arg("path", path);
                return Err(CalcError::new(format!("calc[{}].inputs.{var}", c.id), text, None));
            }
        }
    }
    match dependency_order(&compiled) {
        Ok(order) => {
            let mut slots: Vec<Option<CompiledCalc>> = compiled.into_iter().map(Some).collect();
            Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
        }
        Err(cycle) => {
            let first = &compiled[cycle[0]];
            let next = output_path(&compiled[cycle[1]].id);
            let var = first.inputs.iter().position(|p| *p == next).map_or("", |i| first.expr.vars()[i].name.as_str());
            let names: Vec<&str> = cycle.iter().map(|&i| compiled[i].id.as_str()).collect();
            let text = Text::new("form-calc-loop").arg("loop", names.join(" -> "));
            Err(CalcError::new(format!("calc[{}].inputs.{var}", first.id), text, None))
        }
    }
}

/// The calculation id of a `calc/<id>` input path.
pub(crate) fn calc_input(path: &str) -> Option<&str> {
    path.strip_prefix(OUTPUT_INSTRUMENT)?.strip_prefix('/')
}

/// Indices ordered so a calculation follows those whose output it uses, ties
/// in the given order; `Err` holds a loop `[a, b, .., a]` (a uses b ..).
pub(crate) fn dependency_order(calcs: &[CompiledCalc]) -> Result<Vec<usize>, Vec<usize>> {
    let mut index = HashMap::new();
    for (i, c) in calcs.iter().enumerate() {
        index.entry(c.id.as_str()).or_insert(i);
    }
    let deps: Vec<BTreeSet<usize>> = calcs
        .iter()
        .map(|c| c.inputs.iter().filter_map(|p| calc_input(p).and_then(|id| index.get(id).copied())).collect())
        .collect();
    let mut users = vec![Vec::new(); calcs.len()];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            users[j].push(i);
        }
    }
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut ready: BTreeSet<usize> = (0..calcs.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(calcs.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &u in &users[i] {
            waiting[u] -= 1;
            if waiting[u] == 0 {
                ready.insert(u);
            }
        }
    }
    if order.len() == calcs.len() {
        return Ok(order);
    }
    // Every calculation left waits for another one left: walk until one repeats.
    let Some(mut at) = (0..calcs.len()).find(|&i| waiting[i] > 0) else { return Ok(order) };
    let mut path = vec![at];
    let mut seen = vec![usize::MAX; calcs.len()];
    loop {
        seen[at] = path.len() - 1;
        let Some(&next) = deps[at].iter().find(|&&j| waiting[j] > 0) else { return Err(path) };
        path.push(next);
        if seen[next] != usize::MAX {
            return Err(path[seen[next]..].to_vec());
        }
        at = next;
    }
}

fn check_id(id: &str) -> Result<(), CalcError> {
    let problem = if id.is_empty() {
        Text::new("form-calc-id-empty")
    } else if id.chars().count() > MAX_ID_CHARS {
        Text::new("form-calc-id-too-long").arg("max", MAX_ID_CHARS.to_string())
    } else if let Some(c) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        Text::new("form-calc-id-chars").arg("id", format!("{id:?}")).arg("char", format!("{c:?}"))
    } else {
        return Ok(());
    };
    Err(CalcError::new("calc.id", problem, None))
}

/// What is wrong with a display text (the field's name goes before it).
#[derive(Debug, thiserror::Error)]
enum TextProblem {
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters (line breaks, tabs)")]
    Control,
}

impl TextProblem {
    /// The problem with the field `field`, in any language.
    fn text(&self, field: &str) -> Text {
        match self {
            TextProblem::TooLong(max) => {
                Text::new("form-calc-text-too-long").arg("field", field).arg("max", max.to_string())
            }
            TextProblem::Control => Text::new("form-calc-text-control").arg("field", field),
        }
    }
}

/// Optional display text: blank counts as absent.
fn check_text(text: Option<&str>, max: usize) -> Result<Option<String>, TextProblem> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if t.chars().count() > max {
        return Err(TextProblem::TooLong(max));
    }
    if t.chars().any(char::is_control) {
        return Err(TextProblem::Control);
    }
    Ok(Some(t.to_string()))
}

#[derive(Debug, thiserror::Error)]
#[error("expected a channel path `instrument/channel`, got {0:?}")]
struct NotAPath(String);

impl NotAPath {
    /// The problem with input `var`, in any language.
    fn text(&self, var: &str) -> Text {
        Text::new("form-calc-input-not-path").arg("var", var).arg("path", format!("{:?}", self.0))
    }
}

fn check_path(path: &str) -> Result<(), NotAPath> {
    let shape = || NotAPath(path.to_string());
    let Some((inst, ch)) = path.split_once('/') else { return Err(shape()) };
    let part_ok = |p: &str| !p.is_empty() && p.trim() == p && !p.contains('/') && !p.chars().any(char::is_control);
    if part_ok(inst) && part_ok(ch) { Ok(()) } else { Err(shape()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        calc: Vec<CalcConfig>,
    }

    const CONTRACT: &str = r#"
[[calc]]
id = "total_power"
name = "Total power"
unit = "W"
expr = "(A + B) * 2 - SQR(C)"
inputs = { A = "power1/P1", B = "power2/P1", C = "logger1/CH1_1" }
tolerance = "2s"
"#;

    fn calc(id: &str, expr: &str, inputs: &[(&str, &str)]) -> CalcConfig {
        CalcConfig {
            id: id.into(),
            name: None,
            unit: None,
            expr: expr.into(),
            inputs: inputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    fn err(c: &CalcConfig) -> CalcError {
        match c.validate() {
            Ok(_) => panic!("{c:?} should be refused"),
            Err(e) => e,
        }
    }

    #[test]
    fn contract_example_loads_and_compiles() {
        let f: File = toml::from_str(CONTRACT).unwrap();
        let c = &f.calc[0];
        assert_eq!(c.tolerance, Duration::from_secs(2));
        let cc = c.validate().unwrap();
        assert_eq!(cc.display_name(), "Total power");
        assert_eq!(cc.unit.as_deref(), Some("W"));
        assert_eq!(cc.inputs, ["power1/P1", "power2/P1", "logger1/CH1_1"]);
        assert_eq!(cc.output_path(), "calc/total_power");
    }

    #[test]
    fn defaults_and_json_shape() {
        let f: File = toml::from_str("[[calc]]\nid = \"x\"\nexpr = \"A\"\ninputs = { A = \"i/c\" }\n").unwrap();
        assert_eq!(f.calc[0].tolerance, DEFAULT_TOLERANCE);
        assert_eq!(f.calc[0].name, None);
        let json = serde_json::to_value(&f.calc[0]).unwrap();
        assert_eq!(json, serde_json::json!({"id": "x", "expr": "A", "inputs": {"A": "i/c"}, "tolerance": "1s"}));
        let back: CalcConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, f.calc[0]);
        let ms: CalcConfig =
            serde_json::from_str(r#"{"id":"x","expr":"A","inputs":{"A":"i/c"},"tolerance":"500ms"}"#).unwrap();
        assert_eq!(ms.tolerance, Duration::from_millis(500));
    }

    #[test]
    fn serde_refuses_unknown_fields_and_bad_tolerance() {
        let e = toml::from_str::<File>("[[calc]]\nid = \"x\"\nexpr = \"A\"\ninputs = { A = \"i/c\" }\nunits = \"W\"\n")
            .err()
            .unwrap();
        assert!(e.to_string().contains("units"), "{e}");
        let e = toml::from_str::<File>(
            "[[calc]]\nid = \"x\"\nexpr = \"A\"\ninputs = { A = \"i/c\" }\ntolerance = \"soon\"\n",
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("tolerance"), "{e}");
        assert!(
            toml::from_str::<File>("[[calc]]\nid = \"x\"\ninputs = { A = \"i/c\" }\n").is_err(),
            "expr is required"
        );
    }

    #[test]
    fn id_errors() {
        for (id, needle) in [("", "must not be empty"), ("a b", "may only contain"), ("é", "may only contain")] {
            let e = err(&calc(id, "A", &[("A", "i/c")]));
            assert_eq!(e.field, "calc.id");
            assert!(e.message.contains(needle), "{e}");
        }
        let e = err(&calc(&"x".repeat(65), "A", &[("A", "i/c")]));
        assert_eq!((e.field.as_str(), e.message.as_str()), ("calc.id", "`id` is longer than 64 characters"));
        assert!(calc(&"x".repeat(64), "A", &[("A", "i/c")]).validate().is_ok());
        assert!(calc("Total_power-2", "A", &[("A", "i/c")]).validate().is_ok());
    }

    #[test]
    fn name_unit_tolerance_errors() {
        let mut c = calc("p", "A", &[("A", "i/c")]);
        c.name = Some("n".repeat(129));
        assert_eq!(err(&c).field, "calc[p].name");
        c.name = Some("two\nlines".into());
        assert!(err(&c).message.contains("control characters"));
        c.name = Some("  ".into());
        assert_eq!(c.validate().unwrap().name, None, "blank is absent");
        c.unit = Some("u".repeat(33));
        assert_eq!(err(&c).field, "calc[p].unit");
        c.unit = Some(" kW ".into());
        assert_eq!(c.validate().unwrap().unit.as_deref(), Some("kW"));
        c.tolerance = Duration::from_secs(3601);
        let e = err(&c);
        assert_eq!(e.field, "calc[p].tolerance");
        assert_eq!(e.message, "`tolerance` must be at most 1h, got 1h 1s");
        c.tolerance = Duration::ZERO;
        assert!(c.validate().is_ok(), "zero: only samples of the same instant combine");
    }

    #[test]
    fn input_errors() {
        let e = err(&calc("p", "1", &[]));
        assert_eq!(e.field, "calc[p].inputs");
        let many: Vec<(String, String)> = (0..11).map(|i| (format!("A{i}"), format!("i/c{i}"))).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let e = err(&calc("p", "A0", &many));
        assert_eq!((e.field.as_str(), e.message.as_str()), ("calc[p].inputs", "at most 10 inputs are allowed, got 11"));
        let expr10 = many[..10].iter().map(|(a, _)| *a).collect::<Vec<_>>().join(" + ");
        assert!(calc("p", &expr10, &many[..10]).validate().is_ok());

        for bad in ["1A", "A-B", "SQ", "sqr", ""] {
            let e = err(&calc("p", "A", &[("A", "i/c"), (bad, "i/d")]));
            assert_eq!(e.field, format!("calc[p].inputs.{bad}"));
            assert!(e.message.contains("cannot be an input name"), "{e}");
        }
        for bad in ["power1", "power1/", "/P1", "a/b/c", " a/b", "a/b ", ""] {
            let e = err(&calc("p", "A", &[("A", bad)]));
            assert_eq!(e.field, "calc[p].inputs.A", "{bad:?}");
            assert!(e.message.contains("expected a channel path `instrument/channel`"), "{e}");
        }
        let e = err(&calc("p", "A", &[("A", "calc/p")]));
        assert_eq!(e.field, "calc[p].inputs.A");
        assert!(e.message.contains("its own output `calc/p`"), "{e}");
        assert!(calc("p", "A", &[("A", "calc/q")]).validate().is_ok());
    }

    #[test]
    fn expr_errors_carry_the_column() {
        let e = err(&calc("total_power", "(A + B", &[("A", "i/a"), ("B", "i/b")]));
        assert_eq!(e.field, "calc[total_power].expr");
        assert_eq!(e.position, Some(7));
        assert_eq!(e.to_string(), "calc[total_power].expr: column 7: expected `)` after `(A + B`");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["position"], 7);

        let e = err(&calc("p", "A + 2 * D", &[("A", "i/a"), ("B", "i/b")]));
        assert_eq!(e.field, "calc[p].expr");
        assert_eq!(e.position, Some(9));
        assert_eq!(e.message, "column 9: `D` is not one of the inputs (A, B)");

        let e = err(&calc("p", "A * 2", &[("A", "i/a"), ("B", "i/b")]));
        assert_eq!((e.field.as_str(), e.position), ("calc[p].inputs.B", None));
        assert_eq!(e.message, "input `B` is not used in `expr`; use it or remove it");
        assert_eq!(serde_json::to_value(&e).unwrap().get("position"), None);
    }

    #[test]
    fn inputs_follow_the_order_of_first_use() {
        let c = calc("p", "C - A + C", &[("A", "i/a"), ("C", "i/c")]).validate().unwrap();
        assert_eq!(c.inputs, ["i/c", "i/a"]);
    }

    #[test]
    fn validate_all_orders_and_refuses_duplicates_unknowns_and_loops() {
        let a = calc("a", "X + 1", &[("X", "calc/b")]);
        let b = calc("b", "X * 2", &[("X", "i/c")]);
        let c = calc("c", "X + Y", &[("X", "calc/a"), ("Y", "calc/b")]);
        let ids = |v: Vec<CompiledCalc>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(validate_all(&[c.clone(), a.clone(), b.clone()]).unwrap()), ["b", "a", "c"]);
        assert_eq!(ids(validate_all(&[b.clone(), a.clone()]).unwrap()), ["b", "a"]);
        assert!(validate_all(&[]).unwrap().is_empty());

        let e = validate_all(&[b.clone(), a.clone(), b.clone()]).unwrap_err();
        assert_eq!(e.field, "calc[b].id");
        assert!(e.message.contains("used by another calculation"), "{e}");

        let e = validate_all(std::slice::from_ref(&a)).unwrap_err();
        assert_eq!(e.field, "calc[a].inputs.X");
        assert_eq!(e.message, "input `X`: there is no calculation `b` for `calc/b`");

        let e = validate_all(&[calc("bad", "A", &[])]).unwrap_err();
        assert_eq!(e.field, "calc[bad].inputs", "single checks run first");

        let b_loop = calc("b", "X * Y", &[("X", "i/c"), ("Y", "calc/c")]);
        let e = validate_all(&[a, b_loop, c]).unwrap_err();
        assert!(e.message.starts_with("calculations use each other's output in a loop: "), "{e}");
        assert!(
            ["a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"].iter().any(|l| e.message.contains(l)),
            "{e}"
        );
        assert!(e.field.starts_with("calc[") && e.field.contains("].inputs."), "{e:?}");
    }

    #[test]
    fn loop_of_two_names_the_input() {
        let x = calc("x", "A", &[("A", "calc/y")]);
        let y = calc("y", "B + 1", &[("B", "calc/x")]);
        let e = validate_all(&[x, y]).unwrap_err();
        assert_eq!(e.field, "calc[x].inputs.A");
        assert!(e.message.contains("x -> y -> x"), "{e}");
    }

    #[test]
    fn refusals_read_as_before_in_english_and_are_translated() {
        let ok = calc("p", "A + B", &[("A", "i/a"), ("B", "i/b")]);
        let mut long_name = ok.clone();
        long_name.name = Some("n".repeat(200));
        let mut slow = ok.clone();
        slow.tolerance = Duration::from_secs(3601);
        let errors = [
            err(&calc("", "A", &[("A", "i/a")])),
            err(&long_name),
            err(&slow),
            err(&calc("p", "A", &[])),
            err(&calc("p", "A", &[("A", "nopath")])),
            err(&calc("p", "A + D", &[("A", "i/a")])),
            err(&calc("p", "A +", &[("A", "i/a")])),
            err(&calc("p", "A", &[("A", "i/a"), ("B", "i/b")])),
            validate_all(&[calc("p", "X", &[("X", "calc/q")])]).unwrap_err(),
        ];
        for e in &errors {
            assert_eq!(e.text.to_string(), e.message, "the English file reads as the code");
            let de = e.text.render("de");
            assert_ne!(de, e.message, "{e} in German");
            assert!(!de.contains('$'), "a placeholder left in {de:?}");
        }
        assert_eq!(errors[2].message, "`tolerance` must be at most 1h, got 1h 1s");
        assert_eq!(errors[2].text.render("de"), "`tolerance` darf höchstens 1h sein, angegeben: 1h 1s");
        assert_eq!(errors[5].text.render("de"), "Spalte 5: `D` ist keiner der Eingänge (A)");
        assert_eq!(errors[7].text.render("ja"), "入力 `B` が `expr` で使われていません。使うか削除してください");
        assert_eq!(
            errors[3].text.render("ja"),
            "演算には入力が 1 つ以上必要です（例: `inputs = { A = \"logger1/CH1_1\" }`）"
        );
    }
}
