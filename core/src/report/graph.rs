//! One graph per channel group, drawn by plotters into an SVG string.
//! Data as the Viewer reads it: raw samples when the range holds few,
//! else core's min/max per bucket (each bucket's extremes placed at their
//! own times), so a month of 1 s data draws from block summaries.

use std::sync::Once;

use chrono_tz::Tz;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::ReportError;
use super::fonts::FONT;
use super::words::local;
use crate::model::{ChannelId, TimeMs, Value};
use crate::store::Store;

/// Graph size in PDF points (the SVG's pixels are points).
pub const WIDTH: u32 = 515;
pub const HEIGHT: u32 = 230;
/// Buckets across the plot: about two per point of plot width.
const BUCKETS: usize = 900;

const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// plotters measures text with ab_glyph: the bundled font, registered once
/// (no system fonts are looked up).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is bundled and checked by a test: it parses.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A channel's line: runs of `(t, v)` broken where a bucket has no number.
pub struct Line {
    pub label: String,
    pub runs: Vec<Vec<(TimeMs, f64)>>,
}

pub fn line(store: &Store, ch: ChannelId, label: String, from: TimeMs, to: TimeMs) -> Result<Line, ReportError> {
    let mut runs: Vec<Vec<(TimeMs, f64)>> = vec![Vec::new()];
    let mut push = |p: Option<(TimeMs, f64)>| match p {
        Some(p) => {
            if let Some(r) = runs.last_mut() {
                r.push(p);
            }
        }
        None => {
            if runs.last().is_some_and(|r| !r.is_empty()) {
                runs.push(Vec::new());
            }
        }
    };
    if store.count_in_range(ch, from, to)? <= 2 * BUCKETS as u64 {
        let mut samples = store.range(ch, from, to)?;
        samples.sort_by_key(|s| s.t);
        for s in samples {
            push(match s.value {
                Value::Number(v) if v.is_finite() => Some((s.t, v)),
                _ => None,
            });
        }
    } else {
        for b in store.minmax(ch, from, to, BUCKETS)? {
            match (b.min, b.max) {
                (Some(lo), Some(hi)) => {
                    let (a, c) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
                    push(Some(a));
                    if c != a {
                        push(Some(c));
                    }
                }
                _ => push(None),
            }
        }
    }
    runs.retain(|r| !r.is_empty());
    Ok(Line { label, runs })
}

/// The SVG of one graph. `no_data` is printed when no line has a point.
pub fn svg(
    caption: &str,
    lines: &[Line],
    from: TimeMs,
    to: TimeMs,
    tz: Tz,
    no_data: &str,
) -> Result<String, ReportError> {
    register_font();
    let render = |e: String| ReportError::Render(format!("graph {caption:?}: {e}"));
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in lines.iter().flat_map(|l| l.runs.iter().flatten()) {
        lo = lo.min(p.1);
        hi = hi.max(p.1);
    }
    let has_data = lo <= hi;
    if !has_data {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { lo.abs().max(1.0) * 0.05 };
    let (lo, hi) = (lo - pad, hi + pad);
    let span = to - from;
    let x_fmt = move |x: &f64| {
        let fmt = if span <= 2 * 86_400_000 { "%H:%M" } else { "%m-%d" };
        local(*x as TimeMs, tz).map_or_else(String::new, |d| d.format(fmt).to_string())
    };

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| render(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 12))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(56)
            .build_cartesian_2d(from as f64..to as f64, lo..hi)
            .map_err(|e| render(e.to_string()))?;
        chart
            .configure_mesh()
            .x_labels(7)
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y: &f64| super::words::figure(*y))
            .label_style(("sans-serif", 9))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(|e| render(e.to_string()))?;
        for (i, l) in lines.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut first = true;
            for run in &l.runs {
                let series = LineSeries::new(run.iter().map(|&(t, v)| (t as f64, v)), colour.stroke_width(1));
                let drawn = chart.draw_series(series).map_err(|e| render(e.to_string()))?;
                if std::mem::take(&mut first) {
                    drawn
                        .label(l.label.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2)));
                }
            }
        }
        if has_data {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font(("sans-serif", 9))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(|e| render(e.to_string()))?;
        } else {
            let style = TextStyle::from(("sans-serif", 14).into_font()).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
            root.draw_text(no_data, &style, (WIDTH as i32 / 2, HEIGHT as i32 / 2))
                .map_err(|e| render(e.to_string()))?;
        }
        root.present().map_err(|e| render(e.to_string()))?;
    }
    Ok(out)
}
