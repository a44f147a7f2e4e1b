//! `meterdeck-agent files list | remote | fetch | upload | password`: the
//! measurement files collected from the instruments' FTP servers (`[[files]]`
//! in the config). The running agent collects files up to the automatic
//! limit by itself; `fetch` takes one now (up to 1 GB), `upload` sends one
//! to the cloud now.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use meterdeck_core::agent::STORE_PARTS;
use meterdeck_core::config::{AgentConfig, STORE_FILE};
use meterdeck_core::files::{self, FileRecord, FileSource, Uploader, request};
use meterdeck_core::notify::{KeyringSecrets, SecretStore};
use meterdeck_core::store::{Store, StoreOptions};

use super::runtime;
use crate::paths::resolve_data_dir;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: FilesAction,
}

#[derive(clap::Args)]
struct Common {
    /// The agent's config (its `[[files]]` sections and data directory).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum FilesAction {
    /// Files known to the store: fetched, waiting for a request (too large), cut, failed; and their cloud copy.
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        instrument: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The matching files on an instrument's FTP server now.
    Remote {
        instrument: String,
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        json: bool,
    },
    /// Fetch one file now (up to 1 GB; a cut transfer resumes where it stopped).
    Fetch {
        instrument: String,
        /// Its path on the server, as `files remote` lists it.
        remote_path: String,
        #[command(flatten)]
        common: Common,
    },
    /// Upload a fetched file (its id in `files list`) to the cloud (`[cloud] api`) now.
    Upload {
        id: i64,
        #[command(flatten)]
        common: Common,
    },
    /// Store an instrument's FTP password (read from stdin) in the OS keychain (entry `ftp:<instrument>`).
    Password { instrument: String },
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        FilesAction::List { common, instrument, json } => list(&common, instrument.as_deref(), json),
        FilesAction::Remote { instrument, common, json } => remote(&common, &instrument, json),
        FilesAction::Fetch { instrument, remote_path, common } => fetch(&common, &instrument, &remote_path),
        FilesAction::Upload { id, common } => upload(&common, id),
        FilesAction::Password { instrument } => password(&instrument),
    }
}

struct Loaded {
    cfg: AgentConfig,
    data_dir: PathBuf,
}

fn load(common: &Common) -> Result<Loaded> {
    let cfg = AgentConfig::load(&common.config)?;
    let data_dir = resolve_data_dir(common.data_dir.as_deref(), Some(&cfg)).map_err(|e| anyhow!(e))?;
    Ok(Loaded { cfg, data_dir })
}

fn source<'a>(cfg: &'a AgentConfig, instrument: &str) -> Result<&'a FileSource> {
    cfg.files.iter().find(|f| f.instrument == instrument).ok_or_else(|| {
        let known: Vec<&str> = cfg.files.iter().map(|f| f.instrument.as_str()).collect();
        anyhow!(
            "no `[[files]]` section for instrument `{instrument}` (sections: {})",
            if known.is_empty() { "none".into() } else { known.join(", ") }
        )
    })
}

fn writable_store(l: &Loaded) -> Result<Store> {
    std::fs::create_dir_all(&l.data_dir).with_context(|| format!("cannot create {}", l.data_dir.display()))?;
    Ok(Store::open_with(&l.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?)
}

fn list(common: &Common, instrument: Option<&str>, json: bool) -> Result<()> {
    let l = load(common)?;
    let path = l.data_dir.join(STORE_FILE);
    if !path.is_file() {
        bail!("no store at {} (has the agent run with this config?)", path.display());
    }
    let store = Store::open_readonly(&path)?;
    let rows = files::records::list(store.conn(), instrument, 10_000)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("no files yet");
    }
    for r in &rows {
        println!("{}", line(r));
    }
    Ok(())
}

fn line(r: &FileRecord) -> String {
    let cloud = match (&r.cloud_id, r.remote_deleted) {
        (Some(id), true) => format!("  cloud {id}, deleted on the instrument"),
        (Some(id), false) => format!("  cloud {id}"),
        _ => String::new(),
    };
    let why = r.reason.as_deref().map(|m| format!("  ({m})")).unwrap_or_default();
    format!("{:>5}  {:<10} {:<9} {:>12}  {}{cloud}{why}", r.id, r.instrument, r.state.as_str(), r.size, r.remote_path)
}

fn remote(common: &Common, instrument: &str, json: bool) -> Result<()> {
    let l = load(common)?;
    let src = source(&l.cfg, instrument)?;
    let secrets = KeyringSecrets::new();
    let list = runtime()?.block_on(request::list_remote(src, &l.cfg.instruments, &secrets)).map_err(|e| anyhow!(e))?;
    if json {
        let rows: Vec<_> = list
            .iter()
            .map(|f| serde_json::json!({ "path": f.path, "size": f.size, "modified": f.modified_ms }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for f in &list {
            println!("{:>12}  {}", f.size, f.path);
        }
    }
    Ok(())
}

fn fetch(common: &Common, instrument: &str, remote_path: &str) -> Result<()> {
    let l = load(common)?;
    let src = source(&l.cfg, instrument)?;
    let mut store = writable_store(&l)?;
    let secrets = KeyringSecrets::new();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bytes}/{total_bytes} {bar:40} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let rec = runtime()?
        .block_on(request::fetch_now(
            src,
            &l.cfg.instruments,
            &secrets,
            &l.data_dir,
            &mut store,
            remote_path,
            &mut |p| {
                bar.set_length(p.total);
                bar.set_position(p.done);
            },
        ))
        .map_err(|e| anyhow!("{instrument}: {e}"))?;
    bar.finish_and_clear();
    println!(
        "FETCHED {} {} bytes sha256 {} -> {}{}",
        rec.remote_path,
        rec.size,
        rec.sha256.as_deref().unwrap_or("?"),
        rec.local_path.as_deref().unwrap_or("?"),
        rec.server_checksum.as_deref().map(|c| format!(" (server {c} matches)")).unwrap_or_default()
    );
    Ok(())
}

fn upload(common: &Common, id: i64) -> Result<()> {
    let l = load(common)?;
    let c = l.cfg.cloud.as_ref().ok_or_else(|| anyhow!("the config has no [cloud] section"))?;
    let up = Uploader::for_agent(c, &KeyringSecrets::new()).map_err(|e| anyhow!(e))?;
    let mut store = writable_store(&l)?;
    let rec =
        files::records::by_id(store.conn(), id)?.ok_or_else(|| anyhow!("no file with id {id} (see `files list`)"))?;
    let done = runtime()?
        .block_on(files::upload::upload_record(&up, &mut store, &rec, &mut |_, _| {}))
        .map_err(|e| anyhow!(e))?;
    println!("UPLOADED {} cloud id {} ({})", rec.remote_path, done.id, done.describe());
    Ok(())
}

fn password(instrument: &str) -> Result<()> {
    let secret = super::cloud::read_secret(instrument).map_err(|e| anyhow!(e))?;
    let entry = files::secret_entry(instrument);
    KeyringSecrets::new().set(&entry, &secret).map_err(|e| anyhow!("{e}"))?;
    println!("FTP password of {instrument} stored in the OS keychain (entry {entry})");
    Ok(())
}
