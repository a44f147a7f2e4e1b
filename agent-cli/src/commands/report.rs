//! `meterdeck-agent report`: a PDF report (and the CSV of its statistics
//! beside it) from a template file over a time range, progress on stderr.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use meterdeck_core::fmt::format_time;
use meterdeck_core::report::{ReportRequest, ReportTemplate, generate};
use meterdeck_core::store::Store;

use super::StoreArgs;
use crate::time::time_range;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// sched: `report templates ...` and `report runs` (report_admin.rs).
    #[command(subcommand)]
    admin: Option<super::report_admin::Admin>,
    #[command(flatten)]
    store: StoreArgs,
    /// The report template: a JSON file, or TOML when the name ends in `.toml`,
    /// or the name of a saved template (`report templates list`).
    #[arg(long, value_name = "FILE", required = false)]
    template: Option<PathBuf>,
    /// RFC 3339, a date, `now` or relative (`-1d`).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    from: Option<String>,
    #[arg(long, value_name = "TIME", default_value = "now", allow_hyphen_values = true)]
    to: String,
    /// The PDF to write; the CSV of the statistics goes beside it (same name, `.csv`).
    #[arg(long, value_name = "FILE.pdf")]
    out: Option<PathBuf>,
}

struct Resolved {
    store: StoreArgs,
    template: PathBuf,
    from: String,
    to: String,
    out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    if let Some(admin) = a.admin {
        return super::report_admin::run(admin);
    }
    // Required unless a subcommand is given (clap's derive cannot say so here).
    let need = |what: &str| anyhow!("the following required argument was not provided: {what}");
    let template = a.template.ok_or_else(|| need("--template <FILE>"))?;
    let from = a.from.ok_or_else(|| need("--from <TIME>"))?;
    let out = a.out.ok_or_else(|| need("--out <FILE.pdf>"))?;
    let a = Resolved { store: a.store, template, from, to: a.to, out };
    if !a.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
        return Err(anyhow!("--out {}: the file name must end in .pdf", a.out.display()));
    }
    let store = Store::open_readonly(&a.store.store_path()?)?;
    let template = if a.template.is_file() {
        ReportTemplate::from_file(&a.template).map_err(|e| anyhow!(e))?
    } else {
        super::report_admin::saved_template(&store, &a.template)?
    };
    let (from, to) = time_range(&a.from, &a.to)?;
    let req = ReportRequest { template: &template, from, to };
    let report = generate(&store, &req, &a.out, &mut |p| eprintln!("[{}/{}] {}", p.done, p.total, p.what))?;
    let s = &report.summary;
    eprintln!(
        "report {:?} from {} to {}: {} channels, {} alarms{}; wrote {} and {}",
        s.title,
        format_time(from),
        format_time(to),
        s.channels.len(),
        s.alarms,
        if s.no_data { ", no data in the range" } else { "" },
        report.pdf.display(),
        report.csv.display()
    );
    Ok(())
}
