//! `meterdeck-agent export`: channels over a time range to CSV (one wide
//! file) or ZIP (one CSV per channel plus the wide file), with a progress bar.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use meterdeck_core::export::{ExportFormat, export};
use meterdeck_core::fmt::{format_bytes, format_time};
use meterdeck_core::model::ChannelRecord;
use meterdeck_core::store::Store;

use super::{StoreArgs, find_channel};
use crate::time::time_range;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Comma-separated `instrument/channel` list.
    #[arg(long, value_name = "LIST", required_unless_present = "all", conflicts_with = "all")]
    channels: Option<String>,
    /// Every channel in the store.
    #[arg(long)]
    all: bool,
    /// RFC 3339, a date, `now` or relative (`-1h`, `-7d`).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    from: String,
    #[arg(long, value_name = "TIME", default_value = "now", allow_hyphen_values = true)]
    to: String,
    /// FILE.csv or FILE.zip
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    export_cmd(&a.store, a.channels.as_deref(), a.all, &a.from, &a.to, &a.out)
}

fn export_cmd(args: &StoreArgs, channels: Option<&str>, all: bool, from: &str, to: &str, out: &Path) -> Result<()> {
    let format = ExportFormat::from_path(out)
        .ok_or_else(|| anyhow!("--out {}: the file name must end in .csv or .zip", out.display()))?;
    let (from, to) = time_range(from, to)?;
    let store = Store::open_readonly(&args.store_path()?)?;
    let chosen: Vec<ChannelRecord> = if all {
        store.channels()?
    } else {
        let list = channels.unwrap_or_default();
        list.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| find_channel(&store, p))
            .collect::<Result<_>>()?
    };
    if chosen.is_empty() {
        bail!("no channels to export");
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} samples ({per_sec}, {eta} left)")
            .map_err(|e| anyhow!("progress bar: {e}"))?
            .progress_chars("=> "),
    );
    let summary = export(&store, &chosen, from, to, out, format, &mut |done, total| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    eprintln!(
        "exported {} samples of {} channels ({} rows) from {} to {} into {} ({})",
        summary.samples,
        summary.channels,
        summary.rows,
        format_time(from),
        format_time(to),
        summary.path.display(),
        format_bytes(summary.bytes)
    );
    Ok(())
}
