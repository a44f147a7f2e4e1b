//! `meterdeck-agent query`: a channel's samples over a time range, or an M4
//! view of them (first, last, min, max per bucket), as text or JSON.

use std::io::Write;

use anyhow::{Result, bail};
use meterdeck_core::export::{format_number, format_value};
use meterdeck_core::fmt::format_time;
use meterdeck_core::model::Value;
use meterdeck_core::store::Store;

use super::{StoreArgs, find_channel};
use crate::table::render_table;
use crate::time::time_range;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// `instrument/channel`
    #[arg(long, value_name = "PATH")]
    channel: String,
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    from: String,
    #[arg(long, value_name = "TIME", default_value = "now", allow_hyphen_values = true)]
    to: String,
    /// Downsample to N buckets (M4: first, last, min, max per bucket).
    #[arg(long, value_name = "N")]
    buckets: Option<usize>,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    query_cmd(&a.store, &a.channel, &a.from, &a.to, a.buckets, a.json)
}

fn query_cmd(args: &StoreArgs, channel: &str, from: &str, to: &str, buckets: Option<usize>, json: bool) -> Result<()> {
    let (from, to) = time_range(from, to)?;
    let store = Store::open_readonly(&args.store_path()?)?;
    let ch = find_channel(&store, channel)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed pipe (`| head`) just ends the output.
    let mut ok = true;
    let mut emit = |s: &str| {
        if ok && out.write_all(s.as_bytes()).is_err() {
            ok = false;
        }
    };
    let unit = ch.unit.clone().unwrap_or_default();
    if let Some(n) = buckets {
        if n == 0 || n > 1_000_000 {
            bail!("--buckets must be 1..1000000, got {n}");
        }
        let m4 = store.m4(ch.id, from, to, n)?;
        if json {
            emit(&serde_json::to_string_pretty(&m4)?);
            emit("\n");
        } else {
            let cell = |v: Option<(i64, f64)>| v.map_or("-".to_string(), |(_, x)| format_number(x));
            let rows = m4
                .iter()
                .map(|b| {
                    vec![
                        format_time(b.t_start),
                        b.count.to_string(),
                        cell(b.min),
                        cell(b.max),
                        cell(b.first),
                        cell(b.last),
                        b.specials.to_string(),
                    ]
                })
                .collect();
            emit(&format!("{} [{unit}]\n", ch.path()));
            emit(&render_table(&["BUCKET START", "COUNT", "MIN", "MAX", "FIRST", "LAST", "SPECIALS"], rows));
        }
    } else if json {
        emit("[");
        let mut first = true;
        store.for_each_in_range(ch.id, from, to, |s| {
            let (number, special) = match s.value {
                Value::Number(v) => (serde_json::json!(v), serde_json::Value::Null),
                Value::Special(k) => (serde_json::Value::Null, serde_json::json!(k.label())),
            };
            let item = serde_json::json!({ "t": s.t, "time": format_time(s.t), "value": number, "special": special });
            emit(if first { "\n  " } else { ",\n  " });
            emit(&item.to_string());
            first = false;
        })?;
        emit("\n]\n");
    } else {
        emit(&format!("time_utc                  epoch_ms       {} [{unit}]\n", ch.path()));
        store.for_each_in_range(ch.id, from, to, |s| {
            emit(&format!("{}  {}  {}\n", format_time(s.t), s.t, format_value(s.value)));
        })?;
    }
    let _ = out.flush();
    Ok(())
}
