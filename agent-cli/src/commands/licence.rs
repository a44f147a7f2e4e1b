//! `meterdeck-agent licence show | verify FILE | fetch`: the licence in
//! force (verified offline with the key pinned in `[cloud] licence_key`),
//! a licence file checked against that key, and a fetch from the cloud now
//! (the running agent fetches at start and daily by itself).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use meterdeck_core::agent::{STORE_PARTS, now_ms};
use meterdeck_core::config::{AgentConfig, STORE_FILE};
use meterdeck_core::licence::{self, Source, Trust};
use meterdeck_core::notify::{KeyringSecrets, SecretStore};
use meterdeck_core::store::{Store, StoreOptions};

use super::{StoreArgs, runtime};
use crate::paths::resolve_data_dir;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: LicenceAction,
}

#[derive(clap::Subcommand)]
enum LicenceAction {
    /// The plan in force, its expiry and limits, this gateway's entitlement and the last checks.
    Show {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// Verify a licence file against the pinned key (`[cloud] licence_key` of --config).
    Verify {
        /// The licence file (as the cloud serves it).
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
        /// Keep it as the licence in force when it verifies (and is newer than the kept one).
        #[arg(long)]
        install: bool,
    },
    /// Fetch the licence from the cloud's Web API (`[cloud] api`) now and keep it if it verifies.
    Fetch {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        LicenceAction::Show { store, json } => show(&store, json),
        LicenceAction::Verify { file, store, install } => verify(&file, &store, install),
        LicenceAction::Fetch { store } => fetch(&store),
    }
}

/// The pinned key (and account) of the config's `[cloud]` section.
fn trust_of(cfg: Option<&AgentConfig>) -> Result<Option<Trust>> {
    let Some(c) = cfg.and_then(|c| c.cloud.as_ref()) else { return Ok(None) };
    let Some(key) = c.licence_key.as_deref() else { return Ok(None) };
    Ok(Some(Trust::from_text(key, c.account.as_deref()).map_err(|e| anyhow!(e))?))
}

fn need_trust(cfg: Option<&AgentConfig>) -> Result<Trust> {
    trust_of(cfg)?.ok_or_else(|| {
        anyhow!(
            "no licence key pinned: give --config FILE whose [cloud] section has `licence_key` \
             (run `meterdeck-agent cloud login --api URL --config FILE` to pin the cloud's key)"
        )
    })
}

fn show(args: &StoreArgs, json: bool) -> Result<()> {
    let cfg = args.load_config()?;
    let trust = trust_of(cfg.as_ref())?;
    let db = Store::open_readonly(&args.store_path()?)?;
    let now = now_ms();
    let in_force = licence::in_force(&db, trust.as_ref(), now)?;
    let agent = cfg.as_ref().and_then(|c| c.cloud.as_ref()).map(|c| c.agent.as_str());
    let view = in_force.view(agent, now, licence::checks(&db, 10)?);
    if json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", view.render(now));
        if trust.is_none() {
            println!(
                "note:        no licence key pinned (give --config with `[cloud] licence_key`): Free limits shown"
            );
        }
    }
    Ok(())
}

fn writable_store(args: &StoreArgs, cfg: Option<&AgentConfig>) -> Result<Store> {
    let dir = resolve_data_dir(args.data_dir.as_deref(), cfg).map_err(|e| anyhow!(e))?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(Store::open_with(&dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?)
}

fn verify(file: &PathBuf, args: &StoreArgs, install: bool) -> Result<()> {
    let cfg = args.load_config()?;
    let trust = need_trust(cfg.as_ref())?;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let now = now_ms();
    let doc = if install {
        let mut store = writable_store(args, cfg.as_ref())?;
        licence::accept(&mut store, &text, &trust, now, Source::File)
            .map_err(|e| anyhow!("{}: refused: {e}", file.display()))?
    } else {
        licence::verify(&text, &trust, now).map_err(|e| anyhow!("{}: refused: {e}", file.display()))?
    };
    println!(
        "{}: valid licence {} for account {}: {} plan{}, issued {}",
        file.display(),
        doc.serial,
        doc.account,
        doc.plan,
        doc.expires.map(|e| format!(" until {}", meterdeck_core::fmt::format_time(e))).unwrap_or_default(),
        meterdeck_core::fmt::format_time(doc.issued_at),
    );
    for g in &doc.gateways {
        println!("  gateway {}: {} until {}", g.agent, g.plan, meterdeck_core::fmt::format_time(g.expires));
    }
    if install {
        println!("kept as the licence in force (unless the one kept was newer: see `licence show`)");
    }
    Ok(())
}

fn fetch(args: &StoreArgs) -> Result<()> {
    let cfg = args.load_config()?;
    let trust = need_trust(cfg.as_ref())?;
    let cloud = cfg.as_ref().and_then(|c| c.cloud.clone()).ok_or_else(|| anyhow!("--config has no [cloud] section"))?;
    let Some(api) = cloud.api.clone() else {
        bail!("[cloud] has no `api` (the cloud's Web API); run `meterdeck-agent cloud login --api URL`");
    };
    let secret = KeyringSecrets::new()
        .get(&meterdeck_core::sync::secret_entry(&cloud.agent))
        .map_err(|e| anyhow!("{e}"))?
        .ok_or_else(|| {
            anyhow!("no secret of agent {} in the OS keychain; run `meterdeck-agent cloud login`", cloud.agent)
        })?;
    // The store is created (with its licence table) when it does not exist yet.
    let dir = resolve_data_dir(args.data_dir.as_deref(), cfg.as_ref()).map_err(|e| anyhow!(e))?;
    drop(writable_store(args, cfg.as_ref())?);
    let auth = licence::fetch::Auth::Agent { id: cloud.agent.clone(), secret };
    let doc = runtime()?.block_on(async {
        let http = licence::fetch::client(cloud.ca_file.as_deref())?;
        anyhow::Ok(licence::fetch::refresh(&http, &api, &auth, &dir.join(STORE_FILE), &trust).await?)
    })?;
    println!("licence {} ({} plan, account {}) fetched, verified and in force", doc.serial, doc.plan, doc.account);
    Ok(())
}
