//! The report's fixed words in English and Japanese, and how figures,
//! durations and times are printed.

use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;

use super::template::Language;
use crate::model::TimeMs;

pub struct Words {
    pub period: &'static str,
    pub generated: &'static str,
    pub statistics: &'static str,
    pub channel: &'static str,
    pub unit: &'static str,
    pub min: &'static str,
    pub max: &'static str,
    pub mean: &'static str,
    pub upper: &'static str,
    pub time_above: &'static str,
    pub lower: &'static str,
    pub time_below: &'static str,
    pub specials: &'static str,
    pub samples: &'static str,
    pub graphs: &'static str,
    pub alarms: &'static str,
    pub no_alarms: &'static str,
    pub more_alarms: &'static str,
    pub no_data: &'static str,
    pub only_specials: &'static str,
    pub no_data_graph: &'static str,
    pub page: &'static str,
}

const EN: Words = Words {
    period: "Period",
    generated: "Generated",
    statistics: "Statistics",
    channel: "Channel",
    unit: "Unit",
    min: "Min",
    max: "Max",
    mean: "Mean",
    upper: "Upper",
    time_above: "Time above",
    lower: "Lower",
    time_below: "Time below",
    specials: "Specials",
    samples: "Samples",
    graphs: "Graphs",
    alarms: "Alarms raised",
    no_alarms: "No alarm was raised in this period.",
    more_alarms: "more alarms are not listed",
    no_data: "No data in this period.",
    only_specials: "Only special values in this period (no numbers).",
    no_data_graph: "No data",
    page: "Page",
};

const JA: Words = Words {
    period: "期間",
    generated: "作成日時",
    statistics: "統計",
    channel: "チャンネル",
    unit: "単位",
    min: "最小",
    max: "最大",
    mean: "平均",
    upper: "上限値",
    time_above: "上限超過時間",
    lower: "下限値",
    time_below: "下限未満時間",
    specials: "特殊値",
    samples: "データ数",
    graphs: "グラフ",
    alarms: "発生したアラーム",
    no_alarms: "この期間に発生したアラームはありません。",
    more_alarms: "件のアラームは省略しました",
    no_data: "この期間のデータはありません。",
    only_specials: "この期間は特殊値のみです（数値なし）。",
    no_data_graph: "データなし",
    page: "ページ",
};

pub fn words(lang: Language) -> &'static Words {
    match lang {
        Language::En => &EN,
        Language::Ja => &JA,
    }
}

/// A statistic in the PDF: three decimals, exponent form when huge or tiny
/// (the CSV keeps every digit).
pub fn figure(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-3..1e12).contains(&a) { format!("{x:.3}") } else { format!("{x:.3e}") }
}

/// `2d 3h 04m 05s`, `4m 05s`, `0s`; whole seconds (the CSV keeps ms).
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, s) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s:02}s"),
        (0, _, _) => format!("{h}h {m:02}m {s:02}s"),
        _ => format!("{d}d {h}h {m:02}m {s:02}s"),
    }
}

/// `2026-12-01 09:00:00` in `tz`.
pub fn local_time(t: TimeMs, tz: Tz) -> String {
    local(t, tz).map_or_else(|| format!("{t} ms"), |d| d.format("%Y-%m-%d %H:%M:%S").to_string())
}

pub fn local(t: TimeMs, tz: Tz) -> Option<DateTime<Tz>> {
    DateTime::from_timestamp_millis(t).map(|d| tz.from_utc_datetime(&d.naive_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_durations() {
        assert_eq!(figure(20.0), "20.000");
        assert_eq!(figure(-0.12345), "-0.123");
        assert_eq!(figure(1.5e-7), "1.500e-7");
        assert_eq!(duration(999), "0s");
        assert_eq!(duration(245_000), "4m 05s");
        assert_eq!(duration(3_600_000 * 27 + 61_000), "1d 3h 01m 01s");
        let tz: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(local_time(0, tz), "1970-01-01 09:00:00");
    }
}
