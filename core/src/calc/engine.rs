//! Decides when the inputs of a calculation form one cycle, and evaluates it.
//!
//! The rule: every input keeps its newest sample and whether it is *fresh*
//! (not yet used by an output). A calculation fires when
//! 1. every input has a fresh sample, and
//! 2. their times lie within `tolerance` of each other (newest minus oldest),
//!    so a stale input (one whose instrument stopped) does not combine;
//!
//! the output is stamped with that newest time, and all its inputs stop being
//! fresh. So a calculation fires once per cycle, at the rate of its slowest
//! input; inputs of one instrument poll share the poll time and fire together.
//! A sample not newer than the one an input holds is ignored (late or
//! repeated data), which also makes feeding a calculation's own output back in
//! harmless, and makes output times strictly increase. An output that is the input of another calculation feeds it
//! within the same call.

use std::collections::HashMap;

use super::config::{CompiledCalc, dependency_order};
use super::eval::eval;
use crate::model::{Sample, TimeMs, Value};

/// The instrument part of every calculation's channel path.
pub const OUTPUT_INSTRUMENT: &str = "calc";

/// `calc/<id>`: where a calculation's output is stored.
pub fn output_path(id: &str) -> String {
    format!("{OUTPUT_INSTRUMENT}/{id}")
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    t: TimeMs,
    value: Value,
    fresh: bool,
}

#[derive(Debug)]
struct Calc {
    def: CompiledCalc,
    tolerance_ms: i64,
    slots: Vec<Option<Slot>>,
    last_out: Option<TimeMs>,
}

#[derive(Debug)]
pub struct CalcEngine {
    /// Calculations that use another's output come after it.
    calcs: Vec<Calc>,
    /// Channel path -> (calculation, input) it feeds.
    by_path: HashMap<String, Vec<(usize, usize)>>,
    dirty: Vec<bool>,
}

impl CalcEngine {
    /// Takes calculations as [`validate_all`](super::validate_all) returns them.
    /// They are ordered by dependency again here; should they form a loop
    /// anyway, the output feeding back arrives one call later.
    pub fn new(calcs: Vec<CompiledCalc>) -> CalcEngine {
        let order = dependency_order(&calcs).unwrap_or_else(|_| (0..calcs.len()).collect());
        let mut defs: Vec<Option<CompiledCalc>> = calcs.into_iter().map(Some).collect();
        let calcs: Vec<Calc> = order
            .into_iter()
            .filter_map(|i| defs[i].take())
            .map(|def| Calc {
                tolerance_ms: i64::try_from(def.tolerance.as_millis()).unwrap_or(i64::MAX),
                slots: vec![None; def.inputs.len()],
                last_out: None,
                def,
            })
            .collect();
        let mut by_path: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (ci, c) in calcs.iter().enumerate() {
            for (ii, path) in c.def.inputs.iter().enumerate() {
                by_path.entry(path.clone()).or_default().push((ci, ii));
            }
        }
        let dirty = vec![false; calcs.len()];
        CalcEngine { calcs, by_path, dirty }
    }

    /// (id, unit) of every calculation, in evaluation order.
    pub fn outputs(&self) -> Vec<(String, Option<String>)> {
        self.calcs.iter().map(|c| (c.def.id.clone(), c.def.unit.clone())).collect()
    }

    /// Whether any calculation reads channels of `instrument`.
    pub fn uses_instrument(&self, instrument: &str) -> bool {
        self.by_path.keys().any(|p| p.split_once('/').is_some_and(|(i, _)| i == instrument))
    }

    /// One sample of channel `path` (`instrument/channel`); returns the
    /// outputs it completes, as (calc id, sample), in evaluation order.
    pub fn on_sample(&mut self, path: &str, t: TimeMs, v: Value) -> Vec<(String, Sample)> {
        self.feed(path, t, v);
        self.fire()
    }

    /// One poll of `instrument`: every (channel, value) at time `t`, e.g.
    /// `names.iter().zip(values.iter().copied())`.
    pub fn on_readings<I, S>(&mut self, instrument: &str, t: TimeMs, values: I) -> Vec<(String, Sample)>
    where
        I: IntoIterator<Item = (S, Value)>,
        S: AsRef<str>,
    {
        let mut path = String::new();
        for (channel, v) in values {
            path.clear();
            path.push_str(instrument);
            path.push('/');
            path.push_str(channel.as_ref());
            self.feed(&path, t, v);
        }
        self.fire()
    }

    fn feed(&mut self, path: &str, t: TimeMs, value: Value) {
        let Some(targets) = self.by_path.get(path) else { return };
        for &(ci, ii) in targets {
            let slot = &mut self.calcs[ci].slots[ii];
            if slot.is_none_or(|s| t > s.t) {
                *slot = Some(Slot { t, value, fresh: true });
                self.dirty[ci] = true;
            }
        }
    }

    fn fire(&mut self) -> Vec<(String, Sample)> {
        let mut out = Vec::new();
        for ci in 0..self.calcs.len() {
            if !std::mem::take(&mut self.dirty[ci]) {
                continue;
            }
            let Some(sample) = self.calcs[ci].try_fire() else { continue };
            let path = self.calcs[ci].def.output_path();
            self.feed(&path, sample.t, sample.value);
            out.push((self.calcs[ci].def.id.clone(), sample));
        }
        out
    }
}

impl Calc {
    fn try_fire(&mut self) -> Option<Sample> {
        let (mut oldest, mut newest) = (TimeMs::MAX, TimeMs::MIN);
        for s in &self.slots {
            let s = s.filter(|s| s.fresh)?;
            oldest = oldest.min(s.t);
            newest = newest.max(s.t);
        }
        // Slots only take newer samples, so `newest` is always after the last
        // output; checked anyway so a bug cannot store times out of order.
        if newest.saturating_sub(oldest) > self.tolerance_ms || self.last_out.is_some_and(|last| newest <= last) {
            return None;
        }
        let values: Vec<Value> = self.slots.iter().flatten().map(|s| s.value).collect();
        for s in self.slots.iter_mut().flatten() {
            s.fresh = false;
        }
        self.last_out = Some(newest);
        Some(Sample { t: newest, value: eval(&self.def.expr, &values) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::config::{CalcConfig, validate_all};
    use crate::model::SpecialKind;
    use std::time::Duration;

    fn calc(id: &str, expr: &str, inputs: &[(&str, &str)], tol_ms: u64) -> CalcConfig {
        CalcConfig {
            id: id.into(),
            name: None,
            unit: Some("W".into()),
            expr: expr.into(),
            inputs: inputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            tolerance: Duration::from_millis(tol_ms),
        }
    }

    fn engine(calcs: &[CalcConfig]) -> CalcEngine {
        CalcEngine::new(validate_all(calcs).unwrap())
    }

    fn n(v: f64) -> Value {
        Value::Number(v)
    }

    fn out(id: &str, t: TimeMs, v: f64) -> (String, Sample) {
        (id.to_string(), Sample::number(t, v))
    }

    #[test]
    fn same_poll_inputs_fire_once() {
        let mut e = engine(&[calc("sum", "A + B", &[("A", "pm/P1"), ("B", "pm/P2")], 0)]);
        assert_eq!(
            e.on_readings("pm", 1000, [("P1", n(1.0)), ("P2", n(2.0)), ("P3", n(9.0))]),
            [out("sum", 1000, 3.0)]
        );
        assert_eq!(
            e.on_readings("pm", 2000, vec![("P1".to_string(), n(5.0)), ("P2".to_string(), n(2.0))]),
            [out("sum", 2000, 7.0)]
        );
        // A repeated poll time is ignored.
        assert!(e.on_readings("pm", 2000, [("P1", n(0.0)), ("P2", n(0.0))]).is_empty());
        // Sample by sample: fires when the last input of the poll arrives.
        assert!(e.on_sample("pm/P1", 3000, n(1.0)).is_empty());
        assert_eq!(e.on_sample("pm/P2", 3000, n(1.0)), [out("sum", 3000, 2.0)]);
        assert!(e.on_sample("other/P2", 4000, n(1.0)).is_empty());
    }

    #[test]
    fn two_instruments_within_tolerance_fire_once_per_cycle() {
        let mut e = engine(&[calc("d", "A - B", &[("A", "p1/P"), ("B", "p2/P")], 1000)]);
        assert!(e.on_readings("p1", 1000, [("P", n(10.0))]).is_empty());
        assert_eq!(e.on_readings("p2", 1400, [("P", n(4.0))]), [out("d", 1400, 6.0)], "stamped with the latest time");
        // Next cycle: p1 alone does not fire with p2's used sample.
        assert!(e.on_readings("p1", 2000, [("P", n(20.0))]).is_empty());
        assert_eq!(e.on_readings("p2", 2400, [("P", n(5.0))]), [out("d", 2400, 15.0)]);
        // A faster input: its newest sample is used, once the slow one arrives.
        assert!(e.on_readings("p1", 3000, [("P", n(30.0))]).is_empty());
        assert!(e.on_readings("p1", 3500, [("P", n(35.0))]).is_empty());
        assert_eq!(e.on_readings("p2", 3600, [("P", n(1.0))]), [out("d", 3600, 34.0)]);
    }

    #[test]
    fn stale_inputs_do_not_combine() {
        let mut e = engine(&[calc("d", "A - B", &[("A", "p1/P"), ("B", "p2/P")], 1000)]);
        assert!(e.on_readings("p1", 1000, [("P", n(1.0))]).is_empty());
        // p2 is 1.5 s later than p1: outside the tolerance.
        assert!(e.on_readings("p2", 2500, [("P", n(1.0))]).is_empty());
        assert!(e.on_readings("p2", 3500, [("P", n(2.0))]).is_empty());
        // p1 catches up: combines with p2's newest.
        assert_eq!(e.on_readings("p1", 4000, [("P", n(7.0))]), [out("d", 4000, 5.0)]);
        // Exactly the tolerance apart still combines.
        assert!(e.on_readings("p1", 5000, [("P", n(1.0))]).is_empty());
        assert_eq!(e.on_readings("p2", 6000, [("P", n(1.0))]), [out("d", 6000, 0.0)]);
    }

    #[test]
    fn late_samples_are_ignored() {
        let mut e = engine(&[calc("d", "A - B", &[("A", "p1/P"), ("B", "p2/P")], 1000)]);
        e.on_readings("p1", 5000, [("P", n(1.0))]);
        assert_eq!(e.on_readings("p2", 4800, [("P", n(1.0))]), [out("d", 5000, 0.0)]);
        assert!(e.on_readings("p1", 4000, [("P", n(9.0))]).is_empty(), "older than held");
        assert!(e.on_readings("p2", 4700, [("P", n(9.0))]).is_empty(), "older than held");
        assert!(e.on_readings("p2", 5600, [("P", n(2.0))]).is_empty());
        assert_eq!(e.on_readings("p1", 5500, [("P", n(7.0))]), [out("d", 5600, 5.0)]);
    }

    #[test]
    fn specials_pass_through() {
        let mut e = engine(&[calc("q", "A / B", &[("A", "i/a"), ("B", "i/b")], 0)]);
        let r = e.on_readings("i", 1, [("a", Value::Special(SpecialKind::OverRange)), ("b", n(2.0))]);
        assert_eq!(r, [("q".to_string(), Sample::special(1, SpecialKind::OverRange))]);
        let r = e.on_readings("i", 2, [("a", n(1.0)), ("b", n(0.0))]);
        assert_eq!(r, [("q".to_string(), Sample::special(2, SpecialKind::Invalid))]);
    }

    #[test]
    fn chained_calcs_fire_in_the_same_call() {
        // Given out of order on purpose: validate_all and new both order them.
        let total = calc("total", "X + C", &[("X", "calc/double"), ("C", "pm/P3")], 0);
        let double = calc("double", "2 * (A + B)", &[("A", "pm/P1"), ("B", "pm/P2")], 0);
        let scaled = calc("scaled", "T / 10", &[("T", "calc/total")], 0);
        let configs = [scaled, total, double];
        let mut e = engine(&configs);
        assert_eq!(
            e.outputs(),
            [
                ("double".into(), Some("W".into())),
                ("total".into(), Some("W".into())),
                ("scaled".into(), Some("W".into()))
            ]
        );
        let r = e.on_readings("pm", 1000, [("P1", n(1.0)), ("P2", n(2.0)), ("P3", n(4.0))]);
        assert_eq!(r, [out("double", 1000, 6.0), out("total", 1000, 10.0), out("scaled", 1000, 1.0)]);
        // Feeding an output back (e.g. from the store) changes nothing.
        assert!(e.on_sample("calc/double", 1000, n(6.0)).is_empty());

        // Unordered input to `new` works too.
        let unordered: Vec<CompiledCalc> = configs.iter().map(|c| c.validate().unwrap()).collect();
        let mut e = CalcEngine::new(unordered);
        assert_eq!(e.on_readings("pm", 1000, [("P1", n(1.0)), ("P2", n(2.0)), ("P3", n(4.0))]).len(), 3);
        assert!(e.uses_instrument("pm") && e.uses_instrument("calc") && !e.uses_instrument("p"));
    }

    #[test]
    fn a_loop_given_to_new_does_not_spin() {
        let x = calc("x", "A + 1", &[("A", "calc/y")], 0).validate().unwrap();
        let y = calc("y", "B + C", &[("B", "calc/x"), ("C", "i/c")], 0).validate().unwrap();
        let mut e = CalcEngine::new(vec![x, y]);
        assert!(e.on_sample("i/c", 1, n(1.0)).is_empty());
        assert!(e.on_sample("calc/x", 1, n(1.0)).len() <= 2);
    }

    #[test]
    fn output_path_is_calc_slash_id() {
        assert_eq!(output_path("total_power"), "calc/total_power");
    }
}
