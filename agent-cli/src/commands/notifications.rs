//! `meterdeck-agent notifications`: the notification centre, newest first.

use anyhow::Result;
use meterdeck_core::fmt::format_time;
use meterdeck_core::notify::{Note, centre};
use meterdeck_core::store::{Store, StoreError};

use super::StoreArgs;
use crate::table::render_table;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    unread: bool,
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    notifications_cmd(&a.store, a.unread, a.limit, a.json)
}

fn notifications_cmd(args: &StoreArgs, unread: bool, limit: usize, json: bool) -> Result<()> {
    let store = Store::open_readonly(&args.store_path()?)?;
    let notes = notifications(&store, unread, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&notes)?);
        return Ok(());
    }
    let rows = notes
        .iter()
        .map(|n| {
            vec![
                format_time(n.t),
                if n.read { String::new() } else { "unread".into() },
                n.severity.clone().unwrap_or_default(),
                n.title.clone(),
                n.body.replace('\n', " "),
            ]
        })
        .collect();
    print!("{}", render_table(&["time", "", "severity", "title", "body"], rows));
    Ok(())
}

fn notifications(store: &Store, unread_only: bool, limit: usize) -> Result<Vec<Note>, StoreError> {
    Ok(centre::list(store.conn(), unread_only, Some(limit))?)
}
