//! `meterdeck-agent consent <instrument> on|off`: the owner allows (or
//! stops) remote access from the cloud to one instrument (`*`: adding
//! instruments). Off by default; only this machine's user can change it.

use anyhow::{Result, bail};
use meterdeck_core::store::{Store, StoreOptions};

use super::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// The instrument id (`*` for adding instruments remotely).
    instrument: String,
    /// on | off
    state: String,
}

pub fn run(args: Args) -> Result<()> {
    let on = match args.state.as_str() {
        "on" => true,
        "off" => false,
        other => bail!("consent must be `on` or `off`, got `{other}`"),
    };
    let path = args.store.store_path()?;
    let mut store = Store::open_with(&path, StoreOptions::default(), meterdeck_core::agent::STORE_PARTS)?;
    let inst = args.instrument.as_str();
    if inst != "*" {
        let known = store.instrument_states()?;
        if !known.iter().any(|i| i.id == inst) {
            let ids: Vec<&str> = known.iter().map(|i| i.id.as_str()).collect();
            bail!(
                "unknown instrument `{inst}` (known: {})",
                if ids.is_empty() { "none".into() } else { ids.join(", ") }
            );
        }
    }
    meterdeck_core::remote::set_consent(&mut store, inst, on)?;
    if inst == "*" && on {
        println!(
            "adding instruments from the cloud allowed: the cloud account's admins may add instruments to this agent"
        );
    } else if inst == "*" {
        println!("adding instruments from the cloud refused from now on");
    } else if on {
        println!(
            "remote access to {inst} allowed: the cloud's users may operate it (console, start/stop) and its admins change its settings"
        );
    } else {
        println!("remote access to {inst} refused: the cloud's commands for it are refused from now on");
    }
    Ok(())
}
