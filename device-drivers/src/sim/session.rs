//! One SCPI connection's state and command dispatch: error queue, header
//! mode, the logger snapshot, the common commands and `:SIMulate` controls.
//! Personality-specific commands live in `logger`, `power` and `dmm`.

use std::collections::VecDeque;
use std::fmt::Write;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use super::config::Personality;
use super::faults::{parse_sentinel_arg, sentinel_text};
use super::matcher::{Entry, Unit, entry, lookup, parse_unit};
use super::number::{engineering, nr3};
use super::state::{InstrumentState, SimValue, now_ms};
use super::{dmm, logger, power, settings};

/// Every command the simulator understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmd {
    Idn,
    Rst,
    Cls,
    Opc,
    ErrorQ,
    /// Hioki's `:ERRor?`: the oldest error's code as a bare NR1 number.
    HiokiErrorQ,
    Header,
    HeaderQ,
    Date,
    DateQ,
    Time,
    TimeQ,
    Start,
    Stop,
    StatusQ,
    /// Index into the personality's `settings::table`.
    Setting(usize),
    SettingQ(usize),
    /// How many measurements were started (the tests read it).
    SimStartsQ,
    SimValue,
    SimSentinel,
    SimSlow,
    SimGarbage,
    SimDrop,
    LoggerGetReal,
    LoggerVReal,
    PowerMeasure,
    /// Index into `DMM_CHANNELS`.
    DmmMeasure(usize),
}

const COMMON: &[Entry<Cmd>] = &[
    entry(&["*IDN"], true, "", Cmd::Idn),
    entry(&["*RST"], false, "", Cmd::Rst),
    entry(&["*CLS"], false, "", Cmd::Cls),
    entry(&["*OPC"], true, "", Cmd::Opc),
    entry(&["SYSTem", "ERRor"], true, ":SYSTEM:ERROR", Cmd::ErrorQ),
    entry(&["HEADer"], false, ":HEADER", Cmd::Header),
    entry(&["HEADer"], true, ":HEADER", Cmd::HeaderQ),
    entry(&["SYSTem", "DATE"], false, ":SYSTEM:DATE", Cmd::Date),
    entry(&["SYSTem", "DATE"], true, ":SYSTEM:DATE", Cmd::DateQ),
    entry(&["SYSTem", "TIME"], false, ":SYSTEM:TIME", Cmd::Time),
    entry(&["SYSTem", "TIME"], true, ":SYSTEM:TIME", Cmd::TimeQ),
    entry(&["STARt"], false, ":START", Cmd::Start),
    entry(&["STOP"], false, ":STOP", Cmd::Stop),
    entry(&["STATus"], true, ":STATUS", Cmd::StatusQ),
    entry(&["SIMulate", "VALue"], false, "", Cmd::SimValue),
    entry(&["SIMulate", "SENTinel"], false, "", Cmd::SimSentinel),
    entry(&["SIMulate", "SLOW"], false, "", Cmd::SimSlow),
    entry(&["SIMulate", "GARBage"], false, "", Cmd::SimGarbage),
    entry(&["SIMulate", "DROP"], false, "", Cmd::SimDrop),
    entry(&["SIMulate", "STARts"], true, "", Cmd::SimStartsQ),
];

/// Hioki's own error query, which its instruments answer with a bare code.
const HIOKI: &[Entry<Cmd>] = &[entry(&["ERRor"], true, ":ERROR", Cmd::HiokiErrorQ)];

/// The command table of one instrument (built once, shared by connections).
pub(crate) fn table(personality: Personality, channels: usize) -> Vec<Entry<Cmd>> {
    let mut t = COMMON.to_vec();
    t.extend(settings::entries(personality));
    if matches!(personality, Personality::HiokiLogger | Personality::PowerMeter) {
        t.extend_from_slice(HIOKI);
    }
    match personality {
        Personality::HiokiLogger => t.extend_from_slice(logger::ENTRIES),
        Personality::PowerMeter => t.extend_from_slice(power::ENTRIES),
        Personality::Scpi => t.extend(dmm::entries(channels)),
        Personality::Modbus => {}
    }
    t
}

pub(crate) fn identity(personality: Personality, seed: u64) -> String {
    let (maker, model, firmware) = match personality {
        Personality::HiokiLogger => ("HIOKI", "LR8450", "V2.10"),
        Personality::PowerMeter => ("HIOKI", "PW3390", "V1.30"),
        Personality::Scpi | Personality::Modbus => ("MeterdeckSim", "SCPI-1", "1.0"),
    };
    format!("{maker},{model},SIM{seed}01,{firmware}")
}

/// An SCPI error for the queue: code and standard message.
pub(crate) type ScpiError = (i16, &'static str);
pub(crate) const SYNTAX_ERROR: ScpiError = (-102, "Syntax error");
pub(crate) const MISSING_PARAMETER: ScpiError = (-109, "Missing parameter");
pub(crate) const UNDEFINED_HEADER: ScpiError = (-113, "Undefined header");
pub(crate) const ILLEGAL_PARAMETER: ScpiError = (-224, "Illegal parameter value");
const QUEUE_OVERFLOW: ScpiError = (-350, "Queue overflow");
const QUEUE_LEN: usize = 16;

/// The replies of one line, joined by `;`.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    pub text: String,
    count: usize,
    /// A measurement reply is in the line (garbage faults apply to these).
    pub data: bool,
}

impl Reply {
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.count = 0;
        self.data = false;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Starts the next reply field (writes the `;` separator).
    pub(crate) fn begin(&mut self) -> &mut String {
        if self.count > 0 {
            self.text.push(';');
        }
        self.count += 1;
        &mut self.text
    }
}

/// How an instrument prints numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Style {
    Nr3,
    Engineering,
}

pub(crate) fn push_value(out: &mut String, v: SimValue, style: Style) {
    match (v, style) {
        (SimValue::Sentinel(k), _) => out.push_str(sentinel_text(k)),
        (SimValue::Number { value, decimals: None }, _) => nr3(value, None, out),
        (SimValue::Number { value, decimals: Some(d) }, Style::Nr3) => nr3(value, Some(d), out),
        (SimValue::Number { value, decimals: Some(d) }, Style::Engineering) => engineering(value, d, out),
    }
}

/// Per-connection state.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub header: bool,
    errors: VecDeque<ScpiError>,
    /// The logger's latched `:MEMory:GETReal` values (empty before the first).
    pub snapshot: Vec<SimValue>,
    current: &'static [&'static str],
}

impl Session {
    pub(crate) fn push_error(&mut self, e: ScpiError) {
        if self.errors.len() >= QUEUE_LEN {
            if let Some(last) = self.errors.back_mut() {
                *last = QUEUE_OVERFLOW;
            }
        } else {
            self.errors.push_back(e);
        }
    }

    /// Runs every unit of one line; replies of its queries go to `reply`.
    pub(crate) fn process_line(
        &mut self,
        state: &InstrumentState,
        table: &[Entry<Cmd>],
        idn: &str,
        line: &str,
        reply: &mut Reply,
    ) {
        self.current = &[];
        for part in line.split(';') {
            let Some(unit) = parse_unit(part) else { continue };
            let Some(e) = lookup(table, &unit, self.current) else {
                self.push_error(UNDEFINED_HEADER);
                continue;
            };
            if !unit.common {
                self.current = e.path.split_last().map_or(&[], |(_, parent)| parent);
            }
            if let Err(err) = self.execute(state, e, &unit, idn, reply) {
                self.push_error(err);
            }
        }
    }

    fn execute(
        &mut self,
        state: &InstrumentState,
        e: &Entry<Cmd>,
        unit: &Unit<'_>,
        idn: &str,
        reply: &mut Reply,
    ) -> Result<(), ScpiError> {
        let args = unit.args;
        match e.cmd {
            Cmd::Idn => reply.begin().push_str(idn),
            Cmd::Rst => {
                self.header = false;
                self.snapshot.clear();
            }
            Cmd::Cls => self.errors.clear(),
            Cmd::Opc => reply.begin().push('1'),
            Cmd::ErrorQ => {
                let (code, msg) = self.errors.pop_front().unwrap_or((0, "No error"));
                let out = self.begin_with_header(reply, e);
                let _ = write!(out, "{code},\"{msg}\"");
            }
            Cmd::HiokiErrorQ => {
                let code = self.errors.pop_front().map_or(0, |(code, _)| code);
                let _ = write!(self.begin_with_header(reply, e), "{code}");
            }
            Cmd::Header => self.header = parse_bool(args)?,
            Cmd::HeaderQ => {
                let on = self.header;
                self.begin_with_header(reply, e).push_str(if on { "ON" } else { "OFF" });
            }
            Cmd::Date | Cmd::Time => set_clock(state, args, e.cmd == Cmd::Date)?,
            Cmd::DateQ => {
                let c = state.clock();
                let _ = write!(self.begin_with_header(reply, e), "{},{},{}", c.year(), c.month(), c.day());
            }
            Cmd::TimeQ => {
                let c = state.clock();
                let _ = write!(self.begin_with_header(reply, e), "{},{},{}", c.hour(), c.minute(), c.second());
            }
            Cmd::Start => state.start_measurement(),
            Cmd::Stop => state.set_running(false),
            Cmd::StatusQ => {
                let run = state.running();
                self.begin_with_header(reply, e).push_str(if run { "RUN" } else { "STOP" });
            }
            Cmd::Setting(i) => {
                let spec = settings::table(state.personality).get(i).ok_or(UNDEFINED_HEADER)?;
                state.set_setting(i, settings::accept(spec, args)?);
            }
            Cmd::SettingQ(i) => {
                let value = state.setting(i).ok_or(UNDEFINED_HEADER)?;
                self.begin_with_header(reply, e).push_str(&value);
            }
            Cmd::SimStartsQ => {
                let n = state.starts();
                let _ = write!(reply.begin(), "{n}");
            }
            Cmd::SimValue => {
                let (ch, v) = channel_and_arg(state, args)?;
                let value = if v.eq_ignore_ascii_case("AUTO") {
                    None
                } else {
                    Some(v.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or(ILLEGAL_PARAMETER)?)
                };
                state.force_value(ch, value);
            }
            Cmd::SimSentinel => {
                let (ch, kind) = channel_and_arg(state, args)?;
                state.force_sentinel(ch, parse_sentinel_arg(kind).ok_or(ILLEGAL_PARAMETER)?);
            }
            Cmd::SimSlow => state.set_slow(args.parse().map_err(|_| ILLEGAL_PARAMETER)?),
            Cmd::SimGarbage => state.set_garbage(parse_bool(args)?),
            Cmd::SimDrop => {
                tracing::info!(instrument = %state.name, "dropping every connection (:SIMulate:DROP)");
                state.drops.drop_all();
            }
            Cmd::LoggerGetReal => logger::latch(state, &mut self.snapshot, now_ms()),
            Cmd::LoggerVReal => logger::vreal(state, &self.snapshot, args, self.header, reply)?,
            Cmd::PowerMeasure => power::measure(state, args, self.header, reply)?,
            Cmd::DmmMeasure(i) => dmm::measure(state, i, self.header, reply)?,
        }
        Ok(())
    }

    fn begin_with_header<'r>(&self, reply: &'r mut Reply, e: &Entry<Cmd>) -> &'r mut String {
        let header = self.header;
        let out = reply.begin();
        if header && !e.header.is_empty() {
            out.push_str(e.header);
            out.push(' ');
        }
        out
    }
}

fn parse_bool(arg: &str) -> Result<bool, ScpiError> {
    match arg.trim() {
        "" => Err(MISSING_PARAMETER),
        a if a.eq_ignore_ascii_case("ON") || a == "1" => Ok(true),
        a if a.eq_ignore_ascii_case("OFF") || a == "0" => Ok(false),
        _ => Err(ILLEGAL_PARAMETER),
    }
}

/// `CH,<arg>` of the `:SIMulate` commands.
fn channel_and_arg<'a>(state: &InstrumentState, args: &'a str) -> Result<(usize, &'a str), ScpiError> {
    let (ch, v) = args.split_once(',').ok_or(MISSING_PARAMETER)?;
    let ch = state.find_channel(ch).ok_or(ILLEGAL_PARAMETER)?;
    Ok((ch, v.trim()))
}

fn three_ints(args: &str) -> Result<[u32; 3], ScpiError> {
    let mut out = [0u32; 3];
    let mut parts = args.split(',');
    for slot in &mut out {
        let p = parts.next().map(str::trim).filter(|p| !p.is_empty()).ok_or(MISSING_PARAMETER)?;
        *slot = p.parse().map_err(|_| ILLEGAL_PARAMETER)?;
    }
    if parts.next().is_some() {
        return Err(ILLEGAL_PARAMETER);
    }
    Ok(out)
}

/// `:SYSTem:DATE y,m,d` keeps the time of day; `:SYSTem:TIME h,m,s` keeps the date.
fn set_clock(state: &InstrumentState, args: &str, date: bool) -> Result<(), ScpiError> {
    let [a, b, c] = three_ints(args)?;
    let now = state.clock();
    let (d, t) = if date {
        let year = i32::try_from(a).map_err(|_| ILLEGAL_PARAMETER)?;
        (NaiveDate::from_ymd_opt(year, b, c).ok_or(ILLEGAL_PARAMETER)?, now.time())
    } else {
        (now.date_naive(), NaiveTime::from_hms_opt(a, b, c).ok_or(ILLEGAL_PARAMETER)?)
    };
    state.set_clock(d.and_time(t).and_utc());
    Ok(())
}

/// Runs one line and returns the reply text (test helper).
#[cfg(test)]
pub(crate) fn run_line(state: &InstrumentState, session: &mut Session, line: &str) -> String {
    let table = table(state.personality, state.channel_count());
    let idn = identity(state.personality, state.seed);
    let mut reply = Reply::default();
    session.process_line(state, &table, &idn, line, &mut reply);
    reply.text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::SimInstrument;
    use tokio_util::sync::CancellationToken;

    fn state(p: Personality) -> InstrumentState {
        InstrumentState::new(&SimInstrument::new("t", p), CancellationToken::new())
    }

    #[test]
    fn idn_errors_and_header() {
        let s = state(Personality::HiokiLogger);
        let mut ses = Session::default();
        assert_eq!(run_line(&s, &mut ses, "*IDN?"), "HIOKI,LR8450,SIM001,V2.10");
        assert_eq!(run_line(&s, &mut ses, ":BOGUS?;:SYST:ERR?;:SYST:ERR?"), "-113,\"Undefined header\";0,\"No error\"");
        assert_eq!(run_line(&s, &mut ses, ":HEAD ON;:HEAD?"), ":HEADER ON");
        assert_eq!(run_line(&s, &mut ses, ":HEAD OFF;:BOGUS?;:ERR?;:ERR?"), "-113;0");
        assert_eq!(run_line(&s, &mut ses, ":HEADER OFF;:header?"), "OFF");
        assert_eq!(run_line(&s, &mut ses, ":HEAD MAYBE;:SYST:ERR?"), "-224,\"Illegal parameter value\"");
    }

    #[test]
    fn error_queue_overflows() {
        let s = state(Personality::Scpi);
        let mut ses = Session::default();
        for _ in 0..40 {
            run_line(&s, &mut ses, ":NOPE");
        }
        let mut last = String::new();
        for _ in 0..QUEUE_LEN {
            last = run_line(&s, &mut ses, ":SYST:ERR?");
        }
        assert_eq!(last, "-350,\"Queue overflow\"");
        assert_eq!(run_line(&s, &mut ses, "*CLS;:SYST:ERR?"), "0,\"No error\"");
    }

    #[test]
    fn clock_and_run_state() {
        let s = state(Personality::HiokiLogger);
        let mut ses = Session::default();
        assert_eq!(run_line(&s, &mut ses, ":SYST:DATE 2026,11,22;:SYST:TIME 12,34,56;:SYST:DATE?"), "2026,11,22");
        let t = run_line(&s, &mut ses, ":SYST:TIME?");
        assert!(t.starts_with("12,34,5") || t.starts_with("12,35,"), "{t}");
        assert_eq!(run_line(&s, &mut ses, ":SYST:DATE 2026,13,1;:SYST:ERR?"), "-224,\"Illegal parameter value\"");
        assert_eq!(run_line(&s, &mut ses, ":STOP;:STAT?;:STAR;:STAT?"), "STOP;RUN");
        assert_eq!(run_line(&s, &mut ses, ":SIM:STAR?"), "1");
    }

    #[test]
    fn settings_are_kept_and_bad_values_refused() {
        let s = state(Personality::HiokiLogger);
        let mut ses = Session::default();
        assert_eq!(run_line(&s, &mut ses, ":SAMP:RATE?;:TRIG:MODE?;:SYST:BEEP?"), "1;SINGLE;ON");
        run_line(&s, &mut ses, ":SAMPle:RATE 0.5;:TRIG:MODE repeat");
        assert_eq!(run_line(&s, &mut ses, ":SAMP:RATE?;:TRIG:MODE?"), "0.5;REPEAT");
        assert_eq!(run_line(&s, &mut ses, ":SAMP:RATE 0;:ERR?;:SAMP:RATE?"), "-224;0.5");
        assert_eq!(run_line(&s, &mut ses, ":HEAD ON;:SAMP:RATE?"), ":SAMPLE:RATE 0.5");
        let p = state(Personality::PowerMeter);
        assert_eq!(run_line(&p, &mut Session::default(), ":VOLT:RANG?;:CURR:RANG?;:AVER:COUN?"), "300;5;1");
        let d = state(Personality::Scpi);
        assert_eq!(run_line(&d, &mut Session::default(), ":SENS:VOLT:DC:RANG?;:TRIG:SOUR?"), "10;IMM");
    }

    #[test]
    fn sim_controls() {
        let s = state(Personality::HiokiLogger);
        let mut ses = Session::default();
        run_line(&s, &mut ses, ":SIM:VAL CH1_2,12.345;:SIM:SENT CH1_3,OVER");
        assert_eq!(run_line(&s, &mut ses, ":MEM:GETR;:MEM:VREAL? CH1_2;:MEM:VREAL? CH1_3"), "+1.2345E+01;+999.99E+9");
        run_line(&s, &mut ses, ":SIM:VAL CH1_2,AUTO;:SIM:SENT CH1_3,OFF;:SIM:SLOW 5;:SIM:GARB OFF");
        assert_eq!(s.slow(), Some(std::time::Duration::from_millis(5)));
        assert_eq!(run_line(&s, &mut ses, ":SIM:VAL CH9_9,1;:SYST:ERR?"), "-224,\"Illegal parameter value\"");
        assert_eq!(run_line(&s, &mut ses, ":SIM:VAL CH1_1,nan;:SYST:ERR?"), "-224,\"Illegal parameter value\"");
    }

    #[test]
    fn relative_path_after_semicolon() {
        let s = state(Personality::HiokiLogger);
        let mut ses = Session::default();
        let r = run_line(&s, &mut ses, ":MEM:GETR;VREAL? CH1_1");
        assert!(r.starts_with('+') && r.contains('E'), "{r}");
    }
}
