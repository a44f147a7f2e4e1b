//! The Reports screen: saved templates (edited here, kept in the store at
//! once), "generate now" with progress, the generated reports, opening one
//! (xdg-open) and saving a copy. The agent's schedule task runs the
//! schedules; nothing here waits for it.

use std::path::Path;

use serde::Serialize;

use super::{Desk, DeskError, DeskResult, expand_home};
use crate::agent::STORE_PARTS;
use crate::config::{STORE_FILE, SectionError};
use crate::model::{Text, now_ms};
use crate::report::runner::{self, RunError};
use crate::report::saved::{self, RunView, SavedError, SavedTemplate};
use crate::store::{Store, StoreOptions};

/// Progress of `report_generate` (the `report-progress` event).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ReportProgress {
    pub template: String,
    pub done: u32,
    pub total: u32,
    /// The step just finished, as the engine names it.
    pub what: String,
}

impl From<SavedError> for DeskError {
    fn from(e: SavedError) -> DeskError {
        match e {
            SavedError::Invalid { field, message } => DeskError::Field(SectionError::keyed(field, message, None)),
            SavedError::Limit(l) => DeskError::Limit(l),
            SavedError::Store(s) => DeskError::Store(s),
            e @ SavedError::Unknown(_) => DeskError::Invalid(e.text()),
        }
    }
}

impl From<RunError> for DeskError {
    fn from(e: RunError) -> DeskError {
        match e {
            RunError::Saved(s) => s.into(),
            RunError::Store(s) => DeskError::Store(s),
            e => DeskError::Invalid(e.text()),
        }
    }
}

impl Desk {
    fn report_store(&self) -> DeskResult<Store> {
        Ok(Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?)
    }

    pub fn report_templates(&self) -> DeskResult<Vec<SavedTemplate>> {
        Ok(saved::list(self.report_store()?.conn())?)
    }

    /// Saves a template (new, or in place of `replace`); refused with the
    /// field at fault, or by the plan's `report_templates_per_group`.
    pub fn report_template_save(&self, value: &serde_json::Value, replace: Option<&str>) -> DeskResult<()> {
        let t: SavedTemplate = serde_json::from_value(value.clone())
            .map_err(|e| DeskError::Field(SectionError::new("template", e.to_string())))?;
        let cfg = self.config();
        let known: Vec<String> = cfg.destinations.iter().map(|d| d.id.clone()).collect();
        saved::validate(&t, &known)?;
        let store = self.report_store()?;
        let now = now_ms();
        let limits =
            if self.agent_opts.enforce_limits { Some(saved::limits_for(&store, Some(&cfg), now)?) } else { None };
        saved::save(store.conn(), &t, replace.map(str::trim).filter(|r| !r.is_empty()), limits.as_ref(), now)?;
        Ok(())
    }

    pub fn report_template_delete(&self, name: &str) -> DeskResult<()> {
        Ok(saved::delete(self.report_store()?.conn(), name)?)
    }

    /// Newest first.
    pub fn report_runs(&self, limit: usize) -> DeskResult<Vec<RunView>> {
        Ok(saved::runs(self.report_store()?.conn(), None, limit.clamp(1, 1000))?)
    }

    /// Generates the template's report now (its range as of now), into the
    /// data directory's `reports/`; not sent anywhere.
    pub fn report_generate(&self, name: &str, progress: &mut dyn FnMut(ReportProgress)) -> DeskResult<RunView> {
        // Right after a demo starts, its range may lie in the history still being written.
        let _ = self.history.wait_blocking();
        let store = self.report_store()?;
        let t = saved::get(store.conn(), name)?;
        let mut relay = |p: crate::report::Progress| {
            progress(ReportProgress { template: name.to_string(), done: p.done, total: p.total, what: p.what })
        };
        let g = runner::generate(&store, &self.data_dir, &t, None, now_ms(), &mut relay)?
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-report-not-generated")))?;
        saved::finish_run(store.conn(), g.run, None, &[], now_ms())?;
        runner::view(&store, g.run)?
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-report-vanished").arg("run", g.run.to_string())))
    }

    fn report_pdf(&self, run: i64) -> DeskResult<String> {
        let store = self.report_store()?;
        let r = saved::run(store.conn(), run)?
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-no-report-run").arg("run", run.to_string())))?;
        r.pdf
            .filter(|p| Path::new(p).is_file())
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-report-no-pdf").arg("run", run.to_string())))
    }

    /// Opens the report's PDF with the desktop's default viewer (`xdg-open`).
    pub fn report_open(&self, run: i64) -> DeskResult<()> {
        crate::report::deliver::open_file(Path::new(&self.report_pdf(run)?));
        Ok(())
    }

    /// Copies the report's PDF (and its CSV beside it) to `path` (absolute, `.pdf`).
    pub fn report_save_as(&self, run: i64, path: &str) -> DeskResult<String> {
        let pdf = self.report_pdf(run)?;
        let path = path.trim();
        let out = expand_home(path);
        if !out.is_absolute() || out.extension().is_none_or(|e| !e.eq_ignore_ascii_case("pdf")) {
            return Err(DeskError::Invalid(Text::new("err-desk-pdf-path").arg("path", path)));
        }
        if let Some(dir) = out.parent().filter(|d| !d.is_dir()) {
            return Err(DeskError::Invalid(Text::new("err-desk-no-folder").arg("path", dir.display().to_string())));
        }
        std::fs::copy(&pdf, &out).map_err(|source| DeskError::Write { path: out.clone(), source })?;
        let csv = Path::new(&pdf).with_extension("csv");
        if csv.is_file() {
            let to = out.with_extension("csv");
            std::fs::copy(&csv, &to).map_err(|source| DeskError::Write { path: to, source })?;
        }
        Ok(out.display().to_string())
    }
}
