//! `meterdeck-agent report templates list|show|save|delete` and `report
//! runs`: the saved report templates (kept in the store, what the window's
//! Reports screen edits) and the reports generated from them. `report
//! --template NAME` (in `report.rs`) generates one of them by hand.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use meterdeck_core::agent::{STORE_PARTS, now_ms};
use meterdeck_core::fmt::format_time;
use meterdeck_core::report::saved::{self, SavedTemplate};
use meterdeck_core::store::{Store, StoreOptions};

use super::StoreArgs;
use crate::table::render_table;

#[derive(clap::Subcommand)]
pub enum Admin {
    /// The saved report templates.
    #[command(subcommand)]
    Templates(TemplatesAction),
    /// The reports generated (scheduled and by hand), newest first.
    Runs {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this template's.
        #[arg(long)]
        template: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Subcommand)]
pub enum TemplatesAction {
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// One template as JSON (the shape `save` reads).
    Show {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Save a template from a JSON file: `{"template": {...}, "schedule": {"every": "daily", "at": "02:30"},
    /// "destinations": ["ops-mail"]}`. Destinations are checked against --config's `[[destination]]`s.
    Save {
        /// The JSON file.
        file: PathBuf,
        /// Put it in place of the template of this name (a rename when the names differ).
        #[arg(long)]
        replace: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    Delete {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(a: Admin) -> Result<()> {
    match a {
        Admin::Templates(TemplatesAction::List { store, json }) => list(&store, json),
        Admin::Templates(TemplatesAction::Show { name, store }) => show(&store, &name),
        Admin::Templates(TemplatesAction::Save { file, replace, store }) => save(&store, &file, replace.as_deref()),
        Admin::Templates(TemplatesAction::Delete { name, store }) => {
            saved::delete(writable(&store)?.conn(), &name)?;
            eprintln!("report template {name:?} deleted");
            Ok(())
        }
        Admin::Runs { store, template, limit, json } => runs(&store, template.as_deref(), limit, json),
    }
}

/// A writable connection (the running agent's writer owns another; SQLite serialises them).
fn writable(args: &StoreArgs) -> Result<Store> {
    let path = args.store_path()?;
    Ok(Store::open_with(&path, StoreOptions::default(), STORE_PARTS)?)
}

fn list(args: &StoreArgs, json: bool) -> Result<()> {
    let store = Store::open_readonly(&args.store_path()?)?;
    let all = saved::list(store.conn())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    let rows = all
        .iter()
        .map(|t| {
            vec![
                t.template.name.clone(),
                t.template.title.clone(),
                t.schedule.as_ref().map_or_else(|| "-".into(), schedule_text),
                t.template.time_zone.clone(),
                t.destinations.join(", "),
            ]
        })
        .collect();
    print!("{}", render_table(&["name", "title", "schedule", "zone", "destinations"], rows));
    Ok(())
}

fn schedule_text(s: &meterdeck_core::report::schedule::Schedule) -> String {
    use meterdeck_core::report::schedule::Schedule;
    match s {
        Schedule::Daily { at } => format!("daily {at}"),
        Schedule::Weekly { weekday, at } => format!("weekly {weekday} {at}"),
        Schedule::Monthly { day, at } => format!("monthly day {day} {at}"),
    }
}

fn show(args: &StoreArgs, name: &str) -> Result<()> {
    let store = Store::open_readonly(&args.store_path()?)?;
    println!("{}", serde_json::to_string_pretty(&saved::get(store.conn(), name)?)?);
    Ok(())
}

fn read_file(file: &Path) -> Result<SavedTemplate> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", file.display()))
}

fn save(args: &StoreArgs, file: &Path, replace: Option<&str>) -> Result<()> {
    let t = read_file(file)?;
    let cfg = args.load_config()?;
    let known: Vec<String> =
        cfg.as_ref().map(|c| c.destinations.iter().map(|d| d.id.clone()).collect()).unwrap_or_default();
    saved::validate(&t, &known).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let store = writable(args)?;
    let now = now_ms();
    let limits = saved::limits_for(&store, cfg.as_ref(), now)?;
    saved::save(store.conn(), &t, replace, Some(&limits), now)?;
    eprintln!("report template {:?} saved", t.template.name);
    Ok(())
}

fn runs(args: &StoreArgs, template: Option<&str>, limit: usize, json: bool) -> Result<()> {
    let store = Store::open_readonly(&args.store_path()?)?;
    let all = saved::runs(store.conn(), template, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    let rows = all
        .iter()
        .map(|r| {
            let sent: Vec<String> = r
                .deliveries
                .iter()
                .map(|d| if d.ok { d.destination.clone() } else { format!("{} FAILED", d.destination) })
                .collect();
            vec![
                r.id.to_string(),
                r.template.clone(),
                r.due.map_or_else(|| "by hand".into(), format_time),
                format!("{} – {}", format_time(r.from), format_time(r.to)),
                r.error.clone().map_or_else(|| r.status.clone(), |e| format!("{}: {e}", r.status)),
                r.pdf.clone().unwrap_or_default(),
                sent.join(", "),
            ]
        })
        .collect();
    print!("{}", render_table(&["run", "template", "due", "range", "status", "pdf", "sent to"], rows));
    Ok(())
}

/// `report --template NAME`: a saved template, when NAME is not a file.
pub fn saved_template(store: &Store, name: &Path) -> Result<meterdeck_core::report::ReportTemplate> {
    let name = name.to_string_lossy();
    saved::get(store.conn(), &name).map(|s| s.template).map_err(|e| {
        anyhow!("--template {name}: neither a template file nor a saved template ({e}; see `report templates list`)")
    })
}
