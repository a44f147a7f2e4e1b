//! `meterdeck-agent status`: instruments with state, reason and last poll;
//! latest values with age; outbox backlog; store size; recent events.

use anyhow::Result;
use meterdeck_core::agent::now_ms;
use meterdeck_core::config::AgentConfig;
use meterdeck_core::export::format_value;
use meterdeck_core::fmt::{format_age, format_bytes, format_time};
use meterdeck_core::model::{Event, TimeMs, Value};
use meterdeck_core::store::{OutboxStats, Store, StoreError};
use meterdeck_core::sync::SyncStatus;
use serde::Serialize;

use super::StoreArgs;
use crate::table::render_table;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    json: bool,
    /// Recent events to show.
    #[arg(long, default_value_t = 10)]
    events: usize,
}

pub fn run(args: Args) -> Result<()> {
    let cfg = args.store.load_config()?;
    let store = Store::open_readonly(&args.store.store_path()?)?;
    let report = gather(&store, cfg.as_ref(), now_ms(), args.events)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusReport {
    pub now: TimeMs,
    pub store_path: String,
    pub store_bytes: u64,
    pub outbox: OutboxStats,
    pub instruments: Vec<InstrumentStatus>,
    pub latest: Vec<LatestValue>,
    /// Newest first.
    pub events: Vec<Event>,
    /// Cloud sync: link, backlog, last ack, the month's traffic.
    pub sync: SyncStatus,
}

#[derive(Clone, Debug, Serialize)]
pub struct InstrumentStatus {
    pub id: String,
    pub name: String,
    pub family: String,
    pub target: String,
    pub state: String,
    pub reason: Option<String>,
    pub last_poll: Option<TimeMs>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LatestValue {
    pub channel: String,
    pub unit: Option<String>,
    pub t: TimeMs,
    /// The number or the special value's label.
    pub value: String,
    pub number: Option<f64>,
}

/// `cfg` (when the command was given one) decides whether sync is on.
pub fn gather(
    store: &Store,
    cfg: Option<&AgentConfig>,
    now: TimeMs,
    events: usize,
) -> Result<StatusReport, StoreError> {
    let instruments = store
        .instrument_states()?
        .into_iter()
        .map(|s| InstrumentStatus {
            id: s.id,
            name: s.name,
            family: s.family,
            target: s.target,
            state: s.state.as_str().to_string(),
            reason: s.reason,
            last_poll: s.last_poll,
        })
        .collect();
    let mut latest: Vec<LatestValue> = store
        .latest()?
        .into_iter()
        .map(|(ch, s)| LatestValue {
            channel: ch.path(),
            unit: ch.unit.clone(),
            t: s.t,
            value: format_value(s.value),
            number: match s.value {
                Value::Number(v) => Some(v),
                Value::Special(_) => None,
            },
        })
        .collect();
    latest.sort_by(|a, b| a.channel.cmp(&b.channel));
    Ok(StatusReport {
        now,
        store_path: store.path().display().to_string(),
        store_bytes: store.size_bytes()?,
        outbox: store.outbox_stats()?,
        instruments,
        latest,
        events: store.events(None, None, events)?,
        sync: SyncStatus::read(store, cfg.map(|c| c.cloud.as_ref()), now)?,
    })
}

pub fn render(r: &StatusReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("store   {} ({})\n", r.store_path, format_bytes(r.store_bytes)));
    out.push_str(&format!(
        "outbox  {} samples in {} batches waiting for the cloud{}\n",
        r.outbox.samples,
        r.outbox.batches,
        r.outbox.oldest.map_or(String::new(), |t| format!(", oldest {} old", format_age(r.now - t)))
    ));
    // The outbox line above already gives the backlog.
    let sync = r.sync.render(r.now);
    for line in sync.lines().filter(|l| !l.trim_start().starts_with("backlog")) {
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    let rows = r
        .instruments
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                i.family.clone(),
                i.target.clone(),
                i.state.clone(),
                i.last_poll.map_or("-".into(), |t| format!("{} ago", format_age(r.now - t))),
                i.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&render_table(&["INSTRUMENT", "FAMILY", "TARGET", "STATE", "LAST POLL", "REASON"], rows));
    if r.instruments.is_empty() {
        out.push_str("(no instruments yet)\n");
    }
    out.push('\n');
    let rows = r
        .latest
        .iter()
        .map(|v| vec![v.channel.clone(), v.value.clone(), v.unit.clone().unwrap_or_default(), format_age(r.now - v.t)])
        .collect();
    out.push_str(&render_table(&["CHANNEL", "VALUE", "UNIT", "AGE"], rows));
    if !r.events.is_empty() {
        out.push('\n');
        let rows = r
            .events
            .iter()
            .map(|e| {
                vec![
                    format_time(e.t),
                    e.instrument.clone().unwrap_or_else(|| "-".into()),
                    e.kind.as_str().into(),
                    if e.count > 1 {
                        format!("{} (x{} since {})", e.message, e.count, format_time(e.first()))
                    } else {
                        e.message.clone()
                    },
                ]
            })
            .collect();
        out.push_str(&render_table(&["TIME", "INSTRUMENT", "EVENT", "MESSAGE"], rows));
    }
    out
}
