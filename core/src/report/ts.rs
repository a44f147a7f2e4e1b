//! TypeScript shapes of the engine's template types for the window's
//! bindings (`ui/src/bindings/`): the engine keeps its types free of
//! ts-rs, so the contract describes them here, field for field (serde's
//! JSON shape: snake_case, `range` tagged by `kind`). The test below fails
//! when the two drift apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::TimeMs;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ReportTemplate")]
pub struct ReportTemplateTs {
    pub name: String,
    pub title: String,
    pub channels: Vec<String>,
    pub groups: Vec<GraphGroupTs>,
    pub stats: StatsOptionsTs,
    pub include_alarms: bool,
    pub logo: Option<String>,
    /// `en` or `ja`.
    pub language: LanguageTs,
    pub paper: PaperTs,
    pub range: RangeKindTs,
    pub time_zone: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "GraphGroup")]
pub struct GraphGroupTs {
    pub title: String,
    pub channels: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "StatsOptions")]
pub struct StatsOptionsTs {
    pub thresholds: BTreeMap<String, ThresholdsTs>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "Thresholds")]
pub struct ThresholdsTs {
    pub above: Option<f64>,
    pub below: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "ReportLanguage")]
pub enum LanguageTs {
    En,
    Ja,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "Paper")]
pub enum PaperTs {
    A4,
    Letter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(rename = "RangeKind")]
pub enum RangeKindTs {
    PreviousDay,
    PreviousWeek,
    PreviousMonth,
    Fixed { from: TimeMs, to: TimeMs },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::template::ReportTemplate;

    /// A full template read as the engine's type and as this mirror gives
    /// the same JSON both ways.
    #[test]
    fn mirror_has_the_engines_json_shape() {
        let json = serde_json::json!({
            "name": "n", "title": "t", "channels": ["a/b", "a/c"],
            "groups": [{ "title": "g", "channels": ["a/b"] }],
            "stats": { "thresholds": { "a/b": { "above": 1.5, "below": null } } },
            "include_alarms": false, "logo": "/tmp/logo.png", "language": "ja", "paper": "letter",
            "range": { "kind": "fixed", "from": 1, "to": 2 }, "time_zone": "Asia/Tokyo"
        });
        let engine: ReportTemplate = serde_json::from_value(json.clone()).unwrap();
        let mirror: ReportTemplateTs = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&engine).unwrap(), serde_json::to_value(&mirror).unwrap());
        let back: ReportTemplate = serde_json::from_value(serde_json::to_value(&mirror).unwrap()).unwrap();
        assert_eq!(back, engine);
    }
}
