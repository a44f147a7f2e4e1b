//! `meterdeck-agent fast`: ask the running agent (through the store's
//! settings) to poll an instrument every 5 s for 10 minutes, or stop.

use anyhow::{Result, bail};
use meterdeck_core::agent::{FAST_DURATION, FAST_INTERVAL, FAST_REQUESTS_KEY, FastRequest, now_ms};
use meterdeck_core::store::{Store, StoreOptions};

use super::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    instrument: String,
    /// Back to the normal interval now.
    #[arg(long)]
    off: bool,
}

pub fn run(args: Args) -> Result<()> {
    fast_cmd(&args.store, &args.instrument, !args.off)
}

fn fast_cmd(args: &StoreArgs, instrument: &str, on: bool) -> Result<()> {
    let path = args.store_path()?;
    let mut store = Store::open_with(&path, StoreOptions::default(), meterdeck_core::agent::STORE_PARTS)?;
    let known = store.instrument_states()?;
    if !known.iter().any(|i| i.id == instrument) {
        let ids: Vec<&str> = known.iter().map(|i| i.id.as_str()).collect();
        bail!(
            "unknown instrument `{instrument}` (known: {})",
            if ids.is_empty() { "none".into() } else { ids.join(", ") }
        );
    }
    let current = store.setting(FAST_REQUESTS_KEY)?;
    let value = meterdeck_core::agent::fast_monitor::add_request(
        current.as_deref(),
        instrument,
        FastRequest { on, at: now_ms() },
    );
    store.set_setting(FAST_REQUESTS_KEY, &value)?;
    if on {
        println!(
            "fast monitor requested for {instrument}: every {} for {}; the running agent applies it within a second",
            humantime::format_duration(FAST_INTERVAL),
            humantime::format_duration(FAST_DURATION)
        );
    } else {
        println!("fast monitor off requested for {instrument}; the running agent applies it within a second");
    }
    Ok(())
}
