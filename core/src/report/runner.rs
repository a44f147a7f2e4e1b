//! Generating a saved template's report as a run (files under the data
//! directory's `reports/`, a row in the store) and the agent's schedule
//! task: each due time of each scheduled template is generated once, also
//! across agent restarts (the run row for a due time is the proof), then
//! sent to the template's destinations.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;
use tracing::{info, warn};

use super::deliver::{Outgoing, deliver};
use super::saved::{self, DeliveryView, RunView, SavedError, SavedTemplate};
use super::{GeneratedReport, Progress, ReportRequest};
use crate::model::{Text, TimeMs};
use crate::notify::{DestinationConfig, SecretStore};
use crate::store::{Store, StoreOptions};

/// Where generated reports are kept, under the data directory.
pub const REPORTS_DIR: &str = "reports";

/// The time the schedule task goes by. The real clock, or for tests one
/// read from a file holding epoch milliseconds (`MD_TEST_CLOCK_FILE` in
/// `meterdeck-agent run`), so a test can step through a DST change.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> TimeMs + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(crate::model::now_ms))
    }

    pub fn from_fn(f: impl Fn() -> TimeMs + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }

    /// Reads `path` at every call; until it holds a number, the real time.
    pub fn from_file(path: PathBuf) -> Clock {
        Clock::from_fn(move || {
            std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse::<TimeMs>().ok())
                .unwrap_or_else(crate::model::now_ms)
        })
    }

    pub fn now(&self) -> TimeMs {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Saved(#[from] SavedError),
    #[error("template {name:?}: {message}")]
    Template { name: String, message: Text },
    #[error("template {name:?}: {source}")]
    Report { name: String, source: Box<super::ReportError> },
    #[error("cannot create {}: {source}", path.display())]
    Dir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl RunError {
    /// The failure as a translatable message (keys `err-report-*` in
    /// locales/*/core.ftl); English is the Display. What the OS or the
    /// store said is quoted as it came.
    pub fn text(&self) -> Text {
        match self {
            RunError::Saved(e) => e.text(),
            RunError::Template { name, message } => {
                Text::new("err-report-template").arg("name", format!("{name:?}")).text_arg("reason", message.clone())
            }
            RunError::Report { name, source } => {
                Text::new("err-report-template").arg("name", format!("{name:?}")).text_arg("reason", source.text())
            }
            RunError::Dir { path, source } => {
                Text::new("err-report-create").arg("path", path.display().to_string()).arg("reason", source.to_string())
            }
            RunError::Store(e) => e.text(),
        }
    }
}

/// A file name part from a template name: letters, digits, `-` and `_`.
fn file_stem(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(60).collect();
    if s.is_empty() { "report".into() } else { s }
}

fn local_text(tz: Tz, t: TimeMs, fmt: &str) -> String {
    DateTime::<Utc>::from_timestamp_millis(t)
        .map_or_else(|| t.to_string(), |d| d.with_timezone(&tz).format(fmt).to_string())
}

/// "2026-03-28 00:00 CET – 2026-03-29 00:00 CET" in the template's zone.
pub fn range_text(tz: Tz, from: TimeMs, to: TimeMs) -> String {
    format!("{} – {}", local_text(tz, from, "%Y-%m-%d %H:%M %Z"), local_text(tz, to, "%Y-%m-%d %H:%M %Z"))
}

/// The template's zone, or an error naming the template.
fn zone_of(t: &SavedTemplate) -> Result<Tz, RunError> {
    super::range::zone(&t.template.time_zone)
        .map_err(|e| RunError::Template { name: t.name().to_string(), message: e.text() })
}

/// A generated run, ready to be sent.
pub struct Generated {
    pub run: i64,
    pub report: GeneratedReport,
    pub range_text: String,
}

/// Generates `t`'s report for `due` (None: by hand, at `now`) into
/// `<data_dir>/reports/<template>/`, recording the run. `Ok(None)` when the
/// run for that due time exists already. A failed generation is recorded
/// as a failed run and returned as the error.
pub fn generate(
    store: &Store,
    data_dir: &Path,
    t: &SavedTemplate,
    due: Option<TimeMs>,
    now: TimeMs,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Generated>, RunError> {
    let tz = zone_of(t)?;
    let (from, to) = super::range::resolve(&t.template.range, tz, due.unwrap_or(now))
        .map_err(|e| RunError::Template { name: t.name().to_string(), message: e.text() })?;
    let conn = store.conn();
    let Some(run) = saved::begin_run(conn, t.name(), due, (from, to), now)? else { return Ok(None) };
    let dir = data_dir.join(REPORTS_DIR).join(file_stem(t.name()));
    let made =
        std::fs::create_dir_all(&dir).map_err(|source| RunError::Dir { path: dir.clone(), source }).and_then(|()| {
            let pdf = dir.join(format!("{}_{}-{run}.pdf", file_stem(t.name()), local_text(tz, from, "%Y-%m-%d")));
            let req = ReportRequest { template: &t.template, from, to };
            super::generate(store, &req, &pdf, progress)
                .map_err(|source| RunError::Report { name: t.name().to_string(), source: Box::new(source) })
        });
    match made {
        Ok(report) => {
            let summary = serde_json::json!({
                "title": report.summary.title, "noData": report.summary.no_data, "alarms": report.summary.alarms,
                "channels": report.summary.channels.len(),
            });
            saved::set_files(
                conn,
                run,
                &report.pdf.display().to_string(),
                &report.csv.display().to_string(),
                &summary.to_string(),
            )?;
            Ok(Some(Generated { run, report, range_text: range_text(tz, from, to) }))
        }
        Err(e) => {
            saved::finish_run(conn, run, Some(&e.to_string()), &[], crate::model::now_ms())?;
            Err(e)
        }
    }
}

/// Sends a generated run to the template's destinations and closes the run.
pub async fn send_and_finish(
    store_path: &Path,
    t: &SavedTemplate,
    g: &Generated,
    dests: &[DestinationConfig],
    secrets: &Arc<dyn SecretStore>,
    timeout: Duration,
) -> Result<Vec<DeliveryView>, RunError> {
    let o = Outgoing {
        template: t.name(),
        summary: &g.report.summary,
        pdf: &g.report.pdf,
        csv: &g.report.csv,
        range_text: g.range_text.clone(),
    };
    let deliveries = deliver(dests, &t.destinations, secrets, &o, timeout).await;
    let store = open(store_path)?;
    saved::finish_run(store.conn(), g.run, None, &deliveries, crate::model::now_ms())?;
    Ok(deliveries)
}

/// The agent opened the store with every part first; the runner needs its
/// runs and the alarm journal (importing the agent's list would be a cycle).
fn open(path: &Path) -> Result<Store, RunError> {
    let parts = [saved::SCHEMA_PART, crate::alarm::journal::SCHEMA_PART];
    Ok(Store::open_with(path, StoreOptions::default(), &parts)?)
}

/// The schedule task's settings.
#[derive(Clone, Debug)]
pub struct ScheduleOptions {
    pub clock: Clock,
    /// How often the templates are looked at.
    pub every: Duration,
    /// Bounds one delivery attempt.
    pub send_timeout: Duration,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        ScheduleOptions {
            clock: Clock::system(),
            every: Duration::from_secs(15),
            send_timeout: Duration::from_secs(60),
        }
    }
}

/// The due runs at `now`: (template, due time), runs an earlier agent left
/// unfinished first.
fn due_runs(store: &Store, now: TimeMs) -> Result<Vec<(SavedTemplate, TimeMs)>, RunError> {
    let conn = store.conn();
    let mut out = Vec::new();
    for t in saved::list(conn)? {
        let Some(schedule) = &t.schedule else { continue };
        let tz = match zone_of(&t) {
            Ok(tz) => tz,
            Err(e) => {
                warn!("{e}; its schedule is skipped");
                continue;
            }
        };
        for r in saved::runs(conn, Some(t.name()), 20)? {
            if let (Some(due), "running") = (r.due, r.status.as_str()) {
                out.push((t.clone(), due));
            }
        }
        let anchor = saved::anchor(conn, t.name(), now)?;
        let after = saved::last_due(conn, t.name())?.map_or(anchor, |d| d.max(anchor));
        match schedule.latest_due(tz, after, now) {
            Ok(Some(due)) => out.push((t.clone(), due)),
            Ok(None) => {}
            Err(e) => warn!("template {:?}: {e}; its schedule is skipped", t.name()),
        }
    }
    out.dedup_by(|a, b| a.0.name() == b.0.name() && a.1 == b.1);
    Ok(out)
}

/// The agent's schedule task: looks at the templates every `opts.every`,
/// generates what is due and sends it. Ends on `shutdown`.
pub async fn run_schedules(
    store_path: PathBuf,
    data_dir: PathBuf,
    dests: Vec<DestinationConfig>,
    secrets: Arc<dyn SecretStore>,
    opts: ScheduleOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(opts.every.max(Duration::from_millis(50)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = interval.tick() => {}
        }
        let (path, dir, clock) = (store_path.clone(), data_dir.clone(), opts.clock.clone());
        let made = tokio::task::spawn_blocking(move || -> Result<Vec<(SavedTemplate, Generated)>, RunError> {
            let store = open(&path)?;
            let now = clock.now();
            let mut made = Vec::new();
            for (t, due) in due_runs(&store, now)? {
                info!("report {:?} due at {due} ms: generating", t.name());
                match generate(&store, &dir, &t, Some(due), now, &mut |_| {}) {
                    Ok(Some(g)) => made.push((t, g)),
                    Ok(None) => {}
                    Err(e) => warn!("scheduled report failed: {e}"),
                }
            }
            Ok(made)
        })
        .await;
        let made = match made {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                warn!("report schedules: {e}");
                continue;
            }
            Err(e) => {
                warn!("report schedules: {e}");
                continue;
            }
        };
        for (t, g) in made {
            match send_and_finish(&store_path, &t, &g, &dests, &secrets, opts.send_timeout).await {
                Ok(d) => info!(
                    "report {:?} generated ({}) and sent to {} of {} destinations",
                    t.name(),
                    g.report.pdf.display(),
                    d.iter().filter(|d| d.ok).count(),
                    d.len()
                ),
                Err(e) => warn!("report {:?}: {e}", t.name()),
            }
        }
    }
}

/// The run as listed, after `generate` (for callers that show it).
pub fn view(store: &Store, run: i64) -> Result<Option<RunView>, RunError> {
    Ok(saved::run(store.conn(), run)?)
}
