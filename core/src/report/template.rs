//! A report template: what a report shows and how. Persistence and
//! resolving [`RangeKind`] into times in the template's zone are the
//! scheduler's; the engine takes `from`/`to` as given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{Text, TimeMs};

/// Most channels one template may list (the Viewer's limit).
pub const MAX_CHANNELS: usize = 64;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportTemplate {
    /// Stable name (the scheduler stores templates under it).
    pub name: String,
    /// Printed at the top of every page.
    pub title: String,
    /// `instrument/channel` paths, in the order of the statistics table.
    pub channels: Vec<String>,
    /// One graph per group; empty: the channels in groups of four.
    #[serde(default)]
    pub groups: Vec<GraphGroup>,
    #[serde(default)]
    pub stats: StatsOptions,
    #[serde(default = "yes")]
    pub include_alarms: bool,
    /// A PNG or JPEG printed beside the title.
    #[serde(default)]
    pub logo: Option<PathBuf>,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub paper: Paper,
    #[serde(default)]
    pub range: RangeKind,
    /// IANA zone the report's times are printed in (and ranges resolved in).
    #[serde(default = "utc")]
    pub time_zone: String,
}

fn yes() -> bool {
    true
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphGroup {
    /// Caption of the graph; empty: the channel paths.
    #[serde(default)]
    pub title: String,
    pub channels: Vec<String>,
}

/// Thresholds per channel path for "time above" and "time below".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsOptions {
    #[serde(default)]
    pub thresholds: BTreeMap<String, Thresholds>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Time with values `> above` is reported.
    #[serde(default)]
    pub above: Option<f64>,
    /// Time with values `< below` is reported.
    #[serde(default)]
    pub below: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Ja,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    #[default]
    A4,
    Letter,
}

impl Paper {
    /// Width and height in PDF points (1/72 inch), portrait.
    pub fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RangeKind {
    #[default]
    PreviousDay,
    PreviousWeek,
    PreviousMonth,
    Fixed {
        from: TimeMs,
        to: TimeMs,
    },
}

impl ReportTemplate {
    /// Reads a template file: TOML when the name ends in `.toml`, else JSON.
    pub fn from_file(path: &Path) -> Result<ReportTemplate, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read the template {}: {e}", path.display()))?;
        let parsed: Result<ReportTemplate, String> = if path.extension().is_some_and(|e| e == "toml") {
            toml::from_str(&text).map_err(|e| e.to_string())
        } else {
            // The path of the key at fault (`groups[0].channels`), not just a column.
            let de = &mut serde_json::Deserializer::from_str(&text);
            serde_path_to_error::deserialize(de).map_err(|e| e.to_string())
        };
        let t = parsed.map_err(|e| format!("template {}: {e}", path.display()))?;
        t.validate().map_err(|e| format!("template {}: {e}", path.display()))?;
        Ok(t)
    }

    /// Checks what serde cannot: a clear message naming the field at fault.
    /// Keys `err-template-*` in locales/*/core.ftl; English is as the code words it.
    pub fn validate(&self) -> Result<(), Text> {
        let q = |c: &str| format!("{c:?}");
        if self.name.trim().is_empty() {
            return Err(Text::new("err-template-no-name"));
        }
        if self.channels.is_empty() {
            return Err(Text::new("err-template-no-channels"));
        }
        if self.channels.len() > MAX_CHANNELS {
            return Err(Text::new("err-template-too-many-channels")
                .arg("n", self.channels.len().to_string())
                .arg("max", MAX_CHANNELS.to_string()));
        }
        for c in &self.channels {
            if !c.contains('/') {
                return Err(Text::new("err-template-channel-path").arg("channel", q(c)));
            }
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g.channels.is_empty() {
                return Err(Text::new("err-template-group-empty").arg("group", (i + 1).to_string()));
            }
            if let Some(c) = g.channels.iter().find(|c| !self.channels.contains(c)) {
                return Err(Text::new("err-template-group-channel")
                    .arg("group", (i + 1).to_string())
                    .arg("channel", q(c)));
            }
        }
        if let Some(c) = self.stats.thresholds.keys().find(|c| !self.channels.contains(c)) {
            return Err(Text::new("err-template-threshold-channel").arg("channel", q(c)));
        }
        for (c, t) in &self.stats.thresholds {
            if t.above.is_some_and(|v| !v.is_finite()) || t.below.is_some_and(|v| !v.is_finite()) {
                return Err(Text::new("err-template-threshold-finite").arg("channel", q(c)));
            }
        }
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(Text::new("err-template-time-zone").arg("tz", q(&self.time_zone)));
        }
        if let RangeKind::Fixed { from, to } = self.range
            && from >= to
        {
            return Err(Text::new("err-template-fixed-range"));
        }
        Ok(())
    }

    /// The graphs to draw: the groups given, else the channels by four.
    pub fn graph_groups(&self) -> Vec<GraphGroup> {
        if !self.groups.is_empty() {
            return self.groups.clone();
        }
        self.channels.chunks(4).map(|c| GraphGroup { title: String::new(), channels: c.to_vec() }).collect()
    }
}
