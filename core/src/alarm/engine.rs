//! The alarm engine: rules indexed by channel path, one slot (alarm) per
//! rule, or per instrument/channel for rules without a fixed one
//! (`<rule id>:<instrument or channel path>`). Inputs (samples, connection
//! changes, free space, clock ticks) go in; [`Transition`]s come out for the
//! caller to journal, persist (`state(alarm_id)`) and notify.
//!
//! Filter: when the condition (window included) differs from the alarm's
//! active state, a timer starts at that input's time; if it still differs at
//! an input or tick `filter` ms later, the alarm changes state at
//! `start + filter`. With `filter = 0` it changes at once.
//!
//! `on_sample` is on the storage hot path: one hash lookup per sample, and
//! no allocation unless an alarm changes state.

use std::collections::HashMap;

use chrono_tz::Tz;
use meterdeck_wire::now_ms;
use serde::{Deserialize, Serialize};

use super::condition::{Cond, combine};
use super::lifecycle::{AckInfo, Action, AlarmError, AlarmState, Change, Notify};
use super::rule::{AlarmRule, Combine, RuleKind, Severity, operands, valid_channel_path};
use super::window::{Window, WindowCache};
use crate::model::{TimeMs, Value};
use meterdeck_drivers::files::NamePattern;

/// One state change (or reminder) of one alarm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub alarm_id: String,
    pub rule_id: String,
    pub name: String,
    pub severity: Severity,
    pub t: TimeMs,
    pub action: Action,
    pub from: String,
    pub to: String,
    pub user: Option<String>,
    pub comment: Option<String>,
    /// The values involved, e.g. `logger1/CH1_1 = 85.2, logger1/CH1_2 = 3`.
    pub values: Option<String>,
    /// `None` when nothing is to be sent (or the alarm is shelved / out of service).
    pub notify: Option<Notify>,
    pub destinations: Vec<String>,
    pub message: Option<String>,
}

/// The contract's `AlarmView`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AlarmView {
    pub alarm_id: String,
    pub rule_id: String,
    pub name: String,
    pub severity: Severity,
    pub kind: RuleKind,
    pub active: bool,
    pub acked: bool,
    pub shelved_until: Option<TimeMs>,
    pub out_of_service: bool,
    pub since: TimeMs,
    pub raised_at: Option<TimeMs>,
    pub value: Option<String>,
    pub message: Option<String>,
    pub ack: Option<AckInfo>,
}

enum Kind {
    Threshold {
        a: Cond,
        a_path: String,
        b: Option<(Cond, String, Combine)>,
    },
    Connection,
    Special {
        mask: u8,
    },
    Storage {
        below: u64,
    },
    /// A new measurement file, optionally only names matching the pattern.
    NewFile {
        pattern: Option<NamePattern>,
    },
}

struct Compiled {
    rule: AlarmRule,
    kind: Kind,
    filter: i64,
    reminder: Option<i64>,
    window: Option<Window>,
    fingerprint: u64,
    /// No fixed instrument/channel: one alarm per key.
    wildcard: bool,
}

/// Which list of rules without a fixed instrument/channel a slot belongs to.
#[derive(Clone, Copy)]
enum Wild {
    Special,
    Connection,
    NewFile,
}

/// The latest inputs of one alarm.
enum Input {
    /// Threshold: first and second channel; special: the channel.
    Values([Option<Value>; 2]),
    Connected(Option<bool>, Option<String>),
    Free(Option<u64>),
    /// New file: what the last one was ("logger1: /DATA/W001.CSV, 1234 bytes").
    File(Option<String>),
}

struct Slot {
    rule: usize,
    /// Instrument or channel path of a wildcard rule's alarm.
    key: Option<String>,
    state: AlarmState,
    pending: Option<TimeMs>,
    input: Input,
    win: WindowCache,
}

pub struct AlarmEngine {
    default_tz: Tz,
    rules: Vec<Compiled>,
    rule_index: HashMap<String, usize>,
    slots: Vec<Slot>,
    by_id: HashMap<String, usize>,
    /// Channel path -> (slot, bit 0 = first channel, bit 1 = second).
    by_channel: HashMap<String, Vec<(u32, u8)>>,
    by_instrument: HashMap<String, Vec<usize>>,
    /// Wildcard rules: (rule, key -> slot).
    any_special: Vec<(usize, HashMap<String, usize>)>,
    any_connection: Vec<(usize, HashMap<String, usize>)>,
    /// New-file rules: (rule, instrument -> slot); a rule with a fixed
    /// instrument has its one slot there from the start.
    new_file: Vec<(usize, HashMap<String, usize>)>,
    storage: Vec<usize>,
    /// Resets found while restoring, handed out by the first `tick`.
    queued: Vec<Transition>,
}

/// FNV-1a of the condition-defining fields: a change there resets the alarm,
/// a change of name, severity, message, destinations or reminder does not.
pub fn fingerprint(r: &AlarmRule) -> u64 {
    let key = serde_json::json!([
        r.kind,
        r.channel,
        r.op,
        r.value,
        r.low,
        r.high,
        r.deadband,
        r.second,
        r.instrument,
        r.specials,
        r.below.as_ref().map(|b| b.bytes().ok()),
        r.filter.map(|f| f.as_millis() as u64),
        r.window,
        r.enabled
    ]);
    key.to_string().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

fn compile(rule: AlarmRule, default_tz: Tz) -> Option<Compiled> {
    if !rule.enabled || rule.validate().is_err() {
        return None;
    }
    let (kind, wildcard) = match rule.kind {
        RuleKind::Threshold => {
            let op = rule.op?;
            let (a, b) = operands(op, rule.value, rule.low, rule.high);
            let first = Cond { op, a, b, deadband: rule.deadband.unwrap_or(0.0) };
            let second = rule.second.as_ref().map(|s| {
                let (a, b) = operands(s.op, s.value, s.low, s.high);
                (Cond { op: s.op, a, b, deadband: 0.0 }, s.channel.clone(), s.combine)
            });
            (Kind::Threshold { a: first, a_path: rule.channel.clone()?, b: second }, false)
        }
        RuleKind::Connection => (Kind::Connection, rule.instrument.is_none()),
        RuleKind::Special => {
            let mask = match &rule.specials {
                None => u8::MAX,
                Some(list) => list.iter().fold(0, |m, k| m | 1 << k.code()),
            };
            (Kind::Special { mask }, rule.channel.is_none())
        }
        RuleKind::Storage => (Kind::Storage { below: rule.storage_below() }, false),
        RuleKind::NewFile => {
            let pattern = match rule.pattern.as_deref().map(str::trim) {
                None => None,
                Some(p) => Some(NamePattern::new(p).ok()?),
            };
            (Kind::NewFile { pattern }, rule.instrument.is_none())
        }
    };
    let window = match &rule.window {
        None => None,
        Some(w) => Some(Window { parts: w.parts().ok()?, tz: w.zone().ok()?.unwrap_or(default_tz) }),
    };
    Some(Compiled {
        filter: rule.filter_ms(),
        reminder: rule.reminder_ms(),
        fingerprint: fingerprint(&rule),
        kind,
        window,
        wildcard,
        rule,
    })
}

fn input_for(kind: &Kind) -> Input {
    match kind {
        Kind::Threshold { .. } | Kind::Special { .. } => Input::Values([None, None]),
        Kind::Connection => Input::Connected(None, None),
        Kind::Storage { .. } => Input::Free(None),
        Kind::NewFile { .. } => Input::File(None),
    }
}

#[inline]
fn condition(r: &Compiled, input: &Input, active: bool) -> bool {
    match (&r.kind, input) {
        (Kind::Threshold { a, b, .. }, Input::Values(v)) => {
            let ca = a.test_value(v[0], active);
            match b {
                None => ca,
                Some((b, _, how)) => combine(*how, ca, b.test_value(v[1], active)),
            }
        }
        (Kind::Special { mask }, Input::Values(v)) => {
            matches!(v[0], Some(Value::Special(k)) if mask & (1 << k.code()) != 0)
        }
        (Kind::Connection, Input::Connected(c, _)) => *c == Some(false),
        (Kind::Storage { below }, Input::Free(f)) => f.is_some_and(|f| f < *below),
        _ => false,
    }
}

fn raw(v: Value) -> String {
    match v {
        Value::Number(x) => format!("{x}"),
        Value::Special(k) => k.label().to_string(),
    }
}

fn fmt_bytes(b: u64) -> String {
    match b {
        b if b >= 1_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{b} bytes"),
    }
}

fn make_transition(r: &Compiled, key: Option<&str>, st: &AlarmState, values: Option<String>, c: Change) -> Transition {
    Transition {
        alarm_id: st.alarm_id.clone(),
        rule_id: r.rule.id.clone(),
        name: r.slot_name(key),
        severity: r.rule.severity,
        t: c.t,
        action: c.action,
        from: c.from,
        to: c.to,
        user: c.user,
        comment: c.comment,
        values,
        notify: c.notify,
        destinations: r.rule.destinations.clone(),
        message: r.rule.message.clone(),
    }
}

impl Compiled {
    fn slot_name(&self, key: Option<&str>) -> String {
        match key {
            Some(k) => format!("{} ({k})", self.rule.display_name()),
            None => self.rule.display_name().to_string(),
        }
    }
}

impl Slot {
    /// The channel values behind the condition (for the journal and views).
    fn observed(&self, r: &Compiled) -> (Vec<(String, Value)>, Option<String>) {
        match (&r.kind, &self.input) {
            (Kind::Threshold { a_path, b, .. }, Input::Values(v)) => {
                let mut out = Vec::with_capacity(2);
                if let Some(x) = v[0] {
                    out.push((a_path.clone(), x));
                }
                if let (Some((_, path, _)), Some(x)) = (b, v[1]) {
                    out.push((path.clone(), x));
                }
                (out, None)
            }
            (Kind::Special { .. }, Input::Values(v)) => {
                let path = r.rule.channel.as_deref().or(self.key.as_deref()).unwrap_or_default();
                (v[0].map(|x| (path.to_string(), x)).into_iter().collect(), None)
            }
            (Kind::Connection, Input::Connected(c, reason)) => {
                let inst = r.rule.instrument.as_deref().or(self.key.as_deref()).unwrap_or_default();
                let text = match (c, reason) {
                    (Some(true), _) => format!("{inst} connected"),
                    (_, Some(why)) => format!("{inst} disconnected: {why}"),
                    _ => format!("{inst} disconnected"),
                };
                (Vec::new(), Some(text))
            }
            (Kind::Storage { below }, Input::Free(f)) => {
                let free = f.map_or("unknown".to_string(), fmt_bytes);
                (Vec::new(), Some(format!("{free} free (alarm below {})", fmt_bytes(*below))))
            }
            (Kind::NewFile { .. }, Input::File(text)) => (Vec::new(), text.clone()),
            _ => (Vec::new(), None),
        }
    }

    fn values_text(&self, r: &Compiled) -> Option<String> {
        let (vals, text) = self.observed(r);
        if vals.is_empty() {
            return text;
        }
        Some(vals.iter().map(|(p, v)| format!("{p} = {}", raw(*v))).collect::<Vec<_>>().join(", "))
    }

    fn transition(&self, r: &Compiled, c: Change) -> Transition {
        make_transition(r, self.key.as_deref(), &self.state, self.values_text(r), c)
    }

    fn flip(&mut self, r: &Compiled, t: TimeMs, out: &mut Vec<Transition>) {
        self.pending = None;
        let change = if self.state.phase.is_active() {
            self.state.clear(t, r.rule.notify_on_return)
        } else {
            let (vals, text) = self.observed(r);
            self.state.raise(t, vals, text)
        };
        out.push(self.transition(r, change));
    }

    /// A filter timer that ran out before `t` (the inputs held until `t`).
    #[inline]
    fn settle(&mut self, r: &Compiled, t: TimeMs, out: &mut Vec<Transition>) {
        if let Some(t0) = self.pending
            && t.saturating_sub(t0) >= r.filter
        {
            self.flip(r, t0.saturating_add(r.filter), out);
        }
    }

    /// Re-evaluates at `t` after an input changed (or the clock moved).
    #[inline]
    fn evaluate(&mut self, r: &Compiled, t: TimeMs, out: &mut Vec<Transition>) {
        let active = self.state.phase.is_active();
        let mut met = condition(r, &self.input, active);
        if met && let Some(w) = &r.window {
            met = w.contains_cached(t, &mut self.win);
        }
        if met == active {
            self.pending = None;
            return;
        }
        let t0 = *self.pending.get_or_insert(t);
        if t.saturating_sub(t0) >= r.filter {
            self.flip(r, t0.saturating_add(r.filter), out);
        }
    }
}

impl AlarmEngine {
    /// Rules that are disabled or invalid are left out (check them with
    /// `validate_all` first). `restored` states (from `journal::load_states`)
    /// are taken over when their rule still exists; if the rule's condition
    /// changed meanwhile the alarm is reset, and the first `tick` returns
    /// those resets for the journal.
    pub fn new(rules: Vec<AlarmRule>, default_tz: Tz, restored: Vec<AlarmState>) -> AlarmEngine {
        let mut e = AlarmEngine {
            default_tz,
            rules: Vec::new(),
            rule_index: HashMap::new(),
            slots: Vec::new(),
            by_id: HashMap::new(),
            by_channel: HashMap::new(),
            by_instrument: HashMap::new(),
            any_special: Vec::new(),
            any_connection: Vec::new(),
            new_file: Vec::new(),
            storage: Vec::new(),
            queued: Vec::new(),
        };
        for rule in rules {
            if e.rule_index.contains_key(&rule.id) {
                tracing::warn!(rule = %rule.id, "alarm rule id used twice; the later one is ignored");
                continue;
            }
            match compile(rule, default_tz) {
                Some(c) => e.add_rule(c),
                None => tracing::debug!("alarm rule disabled or invalid; not evaluated"),
            }
        }
        if !restored.is_empty() {
            let now = now_ms();
            let mut out = Vec::new();
            for st in restored {
                e.adopt(st, None, now, &mut out);
            }
            e.queued = out;
        }
        e
    }

    fn add_rule(&mut self, c: Compiled) {
        let ri = self.rules.len();
        self.rule_index.insert(c.rule.id.clone(), ri);
        self.rules.push(c);
        let c = &self.rules[ri];
        if let Kind::NewFile { .. } = c.kind {
            let mut map = HashMap::new();
            if let Some(inst) = c.rule.instrument.clone() {
                map.insert(inst, self.push_slot(ri, None));
            }
            self.new_file.push((ri, map));
        } else if c.wildcard {
            match c.kind {
                Kind::Connection => self.any_connection.push((ri, HashMap::new())),
                _ => self.any_special.push((ri, HashMap::new())),
            }
        } else {
            let (kind_path, b_path, inst) = match &c.kind {
                Kind::Threshold { a_path, b, .. } => (Some(a_path.clone()), b.as_ref().map(|b| b.1.clone()), None),
                Kind::Special { .. } => (c.rule.channel.clone(), None, None),
                Kind::Connection => (None, None, c.rule.instrument.clone()),
                Kind::Storage { .. } | Kind::NewFile { .. } => (None, None, None),
            };
            let si = self.push_slot(ri, None);
            match (kind_path, inst) {
                (Some(path), _) => {
                    self.by_channel.entry(path).or_default().push((si as u32, 1));
                    if let Some(b_path) = b_path {
                        let list = self.by_channel.entry(b_path).or_default();
                        match list.iter_mut().find(|(s, _)| *s == si as u32) {
                            Some(entry) => entry.1 |= 2,
                            None => list.push((si as u32, 2)),
                        }
                    }
                }
                (None, Some(inst)) => self.by_instrument.entry(inst).or_default().push(si),
                (None, None) => self.storage.push(si),
            }
        }
    }

    fn push_slot(&mut self, ri: usize, key: Option<String>) -> usize {
        let c = &self.rules[ri];
        let alarm_id = match &key {
            Some(k) => format!("{}:{k}", c.rule.id),
            None => c.rule.id.clone(),
        };
        let state = AlarmState::new(alarm_id.clone(), c.rule.id.clone(), c.fingerprint, 0);
        let input = input_for(&c.kind);
        let si = self.slots.len();
        self.by_id.insert(alarm_id, si);
        self.slots.push(Slot { rule: ri, key, state, pending: None, input, win: WindowCache::default() });
        si
    }

    /// The slot of wildcard rule `wi` (index into `any_*` or `new_file`) for `key`, created on demand.
    fn dynamic_slot(&mut self, wild: Wild, wi: usize, key: &str) -> usize {
        let list = match wild {
            Wild::Special => &self.any_special,
            Wild::Connection => &self.any_connection,
            Wild::NewFile => &self.new_file,
        };
        let ri = list[wi].0;
        let si = self.push_slot(ri, Some(key.to_string()));
        let list = match wild {
            Wild::Special => &mut self.any_special,
            Wild::Connection => &mut self.any_connection,
            Wild::NewFile => &mut self.new_file,
        };
        list[wi].1.insert(key.to_string(), si);
        si
    }

    /// Installs a state (restored or carried over from `set_rules`). Returns
    /// it back when no rule of this engine owns the alarm any more.
    fn adopt(
        &mut self,
        mut st: AlarmState,
        rt: Option<(Option<TimeMs>, Input)>,
        now: TimeMs,
        out: &mut Vec<Transition>,
    ) -> Option<AlarmState> {
        let Some(&ri) = self.rule_index.get(&st.rule_id) else { return Some(st) };
        let si = match self.by_id.get(&st.alarm_id) {
            Some(&si) => si,
            None => {
                let rule = &self.rules[ri].rule;
                let Some(key) = st.alarm_id.strip_prefix(&format!("{}:", rule.id)).map(str::to_string) else {
                    return Some(st);
                };
                let instrument_key = !key.is_empty() && !key.contains('/');
                let wi = match self.rules[ri].kind {
                    Kind::Connection if self.rules[ri].wildcard && instrument_key => {
                        self.any_connection.iter().position(|(r, _)| *r == ri).map(|wi| (Wild::Connection, wi))
                    }
                    Kind::Special { .. } if self.rules[ri].wildcard && valid_channel_path(&key) => {
                        self.any_special.iter().position(|(r, _)| *r == ri).map(|wi| (Wild::Special, wi))
                    }
                    Kind::NewFile { .. } if self.rules[ri].wildcard && instrument_key => {
                        self.new_file.iter().position(|(r, _)| *r == ri).map(|wi| (Wild::NewFile, wi))
                    }
                    _ => None,
                };
                let Some((wild, wi)) = wi else { return Some(st) };
                self.dynamic_slot(wild, wi, &key)
            }
        };
        let r = &self.rules[ri];
        let slot = &mut self.slots[si];
        if st.fingerprint == r.fingerprint {
            slot.state = st;
            if let Some((pending, input)) = rt {
                slot.pending = pending;
                slot.input = input;
            }
        } else {
            let change = st.reset(now, "rule changed; alarm reset");
            st.fingerprint = r.fingerprint;
            slot.state = st;
            if let Some(c) = change {
                out.push(slot.transition(r, c));
            }
        }
        None
    }

    /// Replaces the rules. Alarms of unchanged rules keep their state (a
    /// changed name, severity, message, destinations or reminder counts as
    /// unchanged); alarms of changed rules go back to NORM (shelve and out of
    /// service stay); alarms of deleted or disabled rules are dropped. Resets
    /// and drops of non-normal alarms come back as `return` transitions
    /// (without notification) for the journal. Persist with `journal::save_states`.
    pub fn set_rules(&mut self, rules: Vec<AlarmRule>, now: TimeMs) -> Vec<Transition> {
        let tz = self.default_tz;
        let old = std::mem::replace(self, AlarmEngine::new(rules, tz, Vec::new()));
        let mut out = Vec::new();
        for slot in old.slots {
            let r = &old.rules[slot.rule];
            if let Some(mut orphan) = self.adopt(slot.state, Some((slot.pending, slot.input)), now, &mut out)
                && let Some(c) = orphan.reset(now, "rule deleted or disabled")
            {
                out.push(make_transition(r, slot.key.as_deref(), &orphan, None, c));
            }
        }
        out
    }

    pub fn on_sample(&mut self, path: &str, t: TimeMs, v: Value) -> Vec<Transition> {
        let mut out = Vec::new();
        if let Some(list) = self.by_channel.get(path) {
            for &(si, bits) in list {
                let slot = &mut self.slots[si as usize];
                let r = &self.rules[slot.rule];
                slot.settle(r, t, &mut out);
                if let Input::Values(vals) = &mut slot.input {
                    if bits & 1 != 0 {
                        vals[0] = Some(v);
                    }
                    if bits & 2 != 0 {
                        vals[1] = Some(v);
                    }
                }
                slot.evaluate(r, t, &mut out);
            }
        }
        for wi in 0..self.any_special.len() {
            let (ri, ref map) = self.any_special[wi];
            let si = match map.get(path) {
                Some(&si) => si,
                None => {
                    // Only a value that would raise creates the alarm.
                    let Kind::Special { mask } = self.rules[ri].kind else { continue };
                    if !matches!(v, Value::Special(k) if mask & (1 << k.code()) != 0) || !valid_channel_path(path) {
                        continue;
                    }
                    self.dynamic_slot(Wild::Special, wi, path)
                }
            };
            let slot = &mut self.slots[si];
            let r = &self.rules[slot.rule];
            slot.settle(r, t, &mut out);
            slot.input = Input::Values([Some(v), None]);
            slot.evaluate(r, t, &mut out);
        }
        out
    }

    /// An instrument connected or disconnected (`reason` says why).
    pub fn on_connection(
        &mut self,
        instrument: &str,
        connected: bool,
        reason: Option<&str>,
        t: TimeMs,
    ) -> Vec<Transition> {
        let mut out = Vec::new();
        let mut targets: Vec<usize> = self.by_instrument.get(instrument).cloned().unwrap_or_default();
        for wi in 0..self.any_connection.len() {
            match self.any_connection[wi].1.get(instrument) {
                Some(&si) => targets.push(si),
                None if !connected && !instrument.is_empty() && !instrument.contains('/') => {
                    targets.push(self.dynamic_slot(Wild::Connection, wi, instrument))
                }
                None => {}
            }
        }
        for si in targets {
            let slot = &mut self.slots[si];
            let r = &self.rules[slot.rule];
            slot.settle(r, t, &mut out);
            slot.input = Input::Connected(Some(connected), reason.map(str::to_string));
            slot.evaluate(r, t, &mut out);
        }
        out
    }

    /// Free bytes left for the data directory.
    pub fn on_storage(&mut self, free_bytes: u64, t: TimeMs) -> Vec<Transition> {
        let mut out = Vec::new();
        for &si in &self.storage {
            let slot = &mut self.slots[si];
            let r = &self.rules[slot.rule];
            slot.settle(r, t, &mut out);
            slot.input = Input::Free(Some(free_bytes));
            slot.evaluate(r, t, &mut out);
        }
        out
    }

    /// The file collector fetched a new file from `instrument`: every
    /// new-file rule for that instrument (or any) whose pattern matches the
    /// file's name raises its alarm and returns it to normal at once (a file
    /// is an event; the alarm stays unacknowledged until someone acks it).
    pub fn on_new_file(&mut self, instrument: &str, remote_path: &str, size: u64, t: TimeMs) -> Vec<Transition> {
        let mut out = Vec::new();
        if instrument.is_empty() || instrument.contains('/') {
            return out;
        }
        let name = remote_path.rsplit(['/', '\\']).next().unwrap_or(remote_path);
        let text = format!("new file from {instrument}: {remote_path} ({})", fmt_bytes(size));
        for wi in 0..self.new_file.len() {
            let (ri, ref map) = self.new_file[wi];
            let r = &self.rules[ri];
            let Kind::NewFile { pattern } = &r.kind else { continue };
            if r.rule.instrument.as_deref().is_some_and(|i| i != instrument)
                || pattern.as_ref().is_some_and(|p| !p.matches(name))
            {
                continue;
            }
            let si = match map.get(instrument) {
                Some(&si) => si,
                None => self.dynamic_slot(Wild::NewFile, wi, instrument),
            };
            let slot = &mut self.slots[si];
            let r = &self.rules[slot.rule];
            slot.input = Input::File(Some(text.clone()));
            if slot.state.phase.is_active() {
                let c = slot.state.clear(t, false);
                out.push(slot.transition(r, c));
            }
            let c = slot.state.raise(t, Vec::new(), Some(text.clone()));
            out.push(slot.transition(r, c));
            let c = slot.state.clear(t, r.rule.notify_on_return);
            out.push(slot.transition(r, c));
        }
        out
    }

    /// Clock: filter timers, window edges, auto-unshelve, reminders. Call it
    /// every second or so.
    pub fn tick(&mut self, now: TimeMs) -> Vec<Transition> {
        let mut out = std::mem::take(&mut self.queued);
        for slot in &mut self.slots {
            let r = &self.rules[slot.rule];
            slot.settle(r, now, &mut out);
            if r.window.is_some() {
                slot.evaluate(r, now, &mut out);
            }
            if let Some(until) = slot.state.shelved_until
                && now >= until
                && let Ok(c) = slot.state.unshelve(None, "shelve time ended", until)
            {
                out.push(slot.transition(r, c));
            }
            if slot.state.reminder_due(r.reminder, now) {
                let c = slot.state.remind(now);
                out.push(slot.transition(r, c));
            }
        }
        out
    }

    fn manual(
        &mut self,
        alarm_id: &str,
        f: impl FnOnce(&mut AlarmState) -> Result<Change, AlarmError>,
    ) -> Result<Vec<Transition>, AlarmError> {
        let &si = self.by_id.get(alarm_id).ok_or_else(|| AlarmError::UnknownAlarm(alarm_id.to_string()))?;
        let slot = &mut self.slots[si];
        let c = f(&mut slot.state)?;
        Ok(vec![slot.transition(&self.rules[slot.rule], c)])
    }

    pub fn ack(
        &mut self,
        alarm_id: &str,
        user: &str,
        comment: &str,
        now: TimeMs,
    ) -> Result<Vec<Transition>, AlarmError> {
        self.manual(alarm_id, |s| s.ack(user, comment, now))
    }

    pub fn shelve(
        &mut self,
        alarm_id: &str,
        until: TimeMs,
        user: &str,
        comment: &str,
        now: TimeMs,
    ) -> Result<Vec<Transition>, AlarmError> {
        self.manual(alarm_id, |s| s.shelve(until, user, comment, now))
    }

    pub fn unshelve(
        &mut self,
        alarm_id: &str,
        user: &str,
        comment: &str,
        now: TimeMs,
    ) -> Result<Vec<Transition>, AlarmError> {
        self.manual(alarm_id, |s| s.unshelve(Some(user), comment, now))
    }

    pub fn set_out_of_service(
        &mut self,
        alarm_id: &str,
        on: bool,
        user: &str,
        comment: &str,
        now: TimeMs,
    ) -> Result<Vec<Transition>, AlarmError> {
        self.manual(alarm_id, |s| s.set_out_of_service(on, user, comment, now))
    }

    pub fn states(&self) -> impl Iterator<Item = &AlarmState> {
        self.slots.iter().map(|s| &s.state)
    }

    /// The channel paths an alarm watches (none for connection, storage
    /// and new-file alarms): what its view-only link shows.
    pub fn channels(&self, alarm_id: &str) -> Vec<String> {
        let Some(&si) = self.by_id.get(alarm_id) else { return Vec::new() };
        let slot = &self.slots[si];
        let r = &self.rules[slot.rule];
        match &r.kind {
            Kind::Threshold { a_path, b, .. } => {
                let mut v = vec![a_path.clone()];
                if let Some((_, path, _)) = b
                    && path != a_path
                {
                    v.push(path.clone());
                }
                v
            }
            Kind::Special { .. } => {
                r.rule.channel.as_deref().or(slot.key.as_deref()).map(str::to_string).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    pub fn state(&self, alarm_id: &str) -> Option<&AlarmState> {
        self.by_id.get(alarm_id).map(|&si| &self.slots[si].state)
    }

    pub fn default_tz(&self) -> Tz {
        self.default_tz
    }

    fn view_of(&self, slot: &Slot, fmt_value: &impl Fn(&str, Value) -> String) -> AlarmView {
        let r = &self.rules[slot.rule];
        let st = &slot.state;
        let value = if st.raised_values.is_empty() {
            st.raised_text.clone()
        } else {
            Some(st.raised_values.iter().map(|(p, v)| fmt_value(p, *v)).collect::<Vec<_>>().join(", "))
        };
        AlarmView {
            alarm_id: st.alarm_id.clone(),
            rule_id: r.rule.id.clone(),
            name: r.slot_name(slot.key.as_deref()),
            severity: r.rule.severity,
            kind: r.rule.kind,
            active: st.phase.is_active(),
            acked: !st.phase.is_unacked(),
            shelved_until: st.shelved_until,
            out_of_service: st.out_of_service,
            since: st.since,
            raised_at: st.raised_at,
            value,
            message: r.rule.message.clone(),
            ack: st.ack.clone(),
        }
    }

    /// One alarm's view (for the `alarm` event after a transition).
    pub fn view(&self, alarm_id: &str, fmt_value: impl Fn(&str, Value) -> String) -> Option<AlarmView> {
        self.by_id.get(alarm_id).map(|&si| self.view_of(&self.slots[si], &fmt_value))
    }

    /// All alarms: unacknowledged first, then active, then severity, then newest.
    /// `fmt_value(channel path, value)` formats a value with its unit.
    pub fn views(&self, fmt_value: impl Fn(&str, Value) -> String) -> Vec<AlarmView> {
        let mut v: Vec<AlarmView> = self.slots.iter().map(|s| self.view_of(s, &fmt_value)).collect();
        v.sort_by(|a, b| {
            (a.acked, !a.active, std::cmp::Reverse(a.severity), std::cmp::Reverse(a.since), &a.alarm_id).cmp(&(
                b.acked,
                !b.active,
                std::cmp::Reverse(b.severity),
                std::cmp::Reverse(b.since),
                &b.alarm_id,
            ))
        });
        v
    }
}
