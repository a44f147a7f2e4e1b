//! The PDF, laid out with krilla: a header (logo, title, period), a notice
//! when the range holds no data, the statistics table, the graphs (plotters
//! SVG placed as vectors by krilla-svg) and the alarms raised. All text is
//! real text in a subset of the bundled font, so it can be selected and
//! searched, in English or Japanese.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono_tz::Tz;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt, SvgSettings};
use plotters::style::IntoFont;

use super::fonts::{FAMILY, FONT};
use super::template::{Language, ReportTemplate};
use super::words::{Words, duration, figure, local_time};
use super::{ChannelStats, ReportError, ReportSummary};
use crate::alarm::JournalEntry;
use crate::model::TimeMs;

const MARGIN: f32 = 40.0;
const FOOTER: f32 = 30.0;
const ROW: f32 = 11.0;
const TABLE_FONT: f32 = 7.0;
/// Alarms listed in the PDF; the rest are counted.
const MAX_ALARM_ROWS: usize = 60;

/// What the PDF shows, gathered by `generate`.
pub struct Content<'a> {
    pub template: &'a ReportTemplate,
    pub summary: &'a ReportSummary,
    pub tz: Tz,
    pub generated: TimeMs,
    /// One SVG per graph group.
    pub graphs: Vec<String>,
    pub alarms: &'a [JournalEntry],
    /// A line to print instead of the figures ("no data", "only specials").
    pub notice: Option<&'static str>,
}

/// One item of the page flow.
enum Block {
    Header,
    Notice(&'static str),
    Heading(&'static str),
    TableHead,
    Row(usize),
    Graph(usize),
    AlarmRow(usize),
    Text(String),
}

impl Block {
    fn height(&self) -> f32 {
        match self {
            Block::Header => 74.0,
            Block::Notice(_) => 22.0,
            Block::Heading(_) => 24.0,
            Block::TableHead => 14.0,
            Block::Row(_) | Block::AlarmRow(_) | Block::Text(_) => ROW,
            Block::Graph(_) => super::graph::HEIGHT as f32 + 10.0,
        }
    }
}

/// The usvg font database: the bundled font only, as sans-serif.
fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Width of `text` at `size` points, measured with the bundled font.
fn text_width(text: &str, size: f32) -> f32 {
    // plotters measures in pixels of an integer size: measure at 10x.
    let font = ("sans-serif", f64::from(size) * 10.0).into_font();
    font.box_size(text).map_or(text.chars().count() as f32 * size * 0.55, |(w, _)| w as f32 / 10.0)
}

/// `text` cut with an ellipsis to fit `width`.
fn fit(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let mut out: String = text.to_string();
    while !out.is_empty() && text_width(&format!("{out}…"), size) > width {
        out.pop();
    }
    format!("{out}…")
}

fn black() -> Fill {
    Fill { paint: rgb::Color::new(0, 0, 0).into(), opacity: NormalizedF32::ONE, rule: Default::default() }
}

fn grey(level: u8) -> Fill {
    Fill { paint: rgb::Color::new(level, level, level).into(), opacity: NormalizedF32::ONE, rule: Default::default() }
}

struct Painter<'s, 'p> {
    s: &'s mut Surface<'p>,
    font: Font,
}

impl Painter<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.s.set_fill(Some(black()));
        self.s.draw_text(Point::from_xy(x, y), self.font.clone(), size, text, false, TextDirection::Auto);
    }

    fn text_right(&mut self, right: f32, y: f32, size: f32, text: &str) {
        let w = text_width(text, size);
        self.text(right - w, y, size, text);
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Fill) {
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            let mut pb = PathBuilder::new();
            pb.push_rect(r);
            if let Some(path) = pb.finish() {
                self.s.set_stroke(None);
                self.s.set_fill(Some(fill));
                self.s.draw_path(&path);
            }
        }
    }

    fn hline(&mut self, x: f32, y: f32, w: f32, level: u8) {
        let mut pb = PathBuilder::new();
        pb.move_to(x, y);
        pb.line_to(x + w, y);
        if let Some(path) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke {
                paint: rgb::Color::new(level, level, level).into(),
                width: 0.5,
                ..Stroke::default()
            }));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
        }
    }
}

/// Table columns: (right edge or left edge, width); numbers right-aligned.
struct Columns {
    x: [f32; 11],
    w: [f32; 11],
}

impl Columns {
    fn new(left: f32, width: f32) -> Columns {
        // Channel, unit, min, max, mean, upper limit, time above, lower
        // limit, time below, specials, samples: the channel takes the rest.
        let fixed = [0.0, 26.0, 46.0, 46.0, 46.0, 40.0, 58.0, 40.0, 58.0, 36.0, 40.0];
        let mut w = fixed;
        w[0] = (width - fixed.iter().sum::<f32>()).max(60.0);
        let mut x = [0.0; 11];
        let mut at = left;
        for i in 0..11 {
            x[i] = at;
            at += w[i];
        }
        Columns { x, w }
    }
}

fn row_cells(s: &ChannelStats) -> [String; 11] {
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_string(), figure);
    [
        s.path.clone(),
        s.unit.clone().unwrap_or_default(),
        opt(s.min.map(|m| m.1)),
        opt(s.max.map(|m| m.1)),
        opt(s.mean),
        s.above.map_or_else(|| "-".into(), |a| figure(a.threshold)),
        s.above.map_or_else(|| "-".into(), |a| duration(a.ms)),
        s.below.map_or_else(|| "-".into(), |b| figure(b.threshold)),
        s.below.map_or_else(|| "-".into(), |b| duration(b.ms)),
        s.specials.to_string(),
        s.samples.to_string(),
    ]
}

fn head_cells(w: &Words) -> [&'static str; 11] {
    [w.channel, w.unit, w.min, w.max, w.mean, w.upper, w.time_above, w.lower, w.time_below, w.specials, w.samples]
}

/// Splits the flow into pages of `room` points.
fn paginate(blocks: Vec<Block>, room: f32) -> Vec<Vec<Block>> {
    let mut pages: Vec<Vec<Block>> = Vec::new();
    let mut page: Vec<Block> = Vec::new();
    let mut used = 0.0;
    for b in blocks {
        let h = b.height();
        // A heading keeps the first rows of its section with it.
        let need = if matches!(b, Block::Heading(_)) { h + 40.0 } else { h };
        if used + need > room && !page.is_empty() {
            pages.push(std::mem::take(&mut page));
            used = 0.0;
            if matches!(b, Block::Row(_)) {
                used += Block::TableHead.height();
                page.push(Block::TableHead);
            }
        }
        used += h;
        page.push(b);
    }
    pages.push(page);
    pages
}

fn load_logo(path: &Path) -> Result<Image, ReportError> {
    let logo_err = |reason: String| ReportError::Logo { path: path.to_path_buf(), reason };
    let bytes = std::fs::read(path).map_err(|e| logo_err(e.to_string()))?;
    let image = if bytes.starts_with(b"\x89PNG") {
        Image::from_png(bytes.into(), true)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        Image::from_jpeg(bytes.into(), true)
    } else {
        return Err(logo_err("not a PNG or JPEG image".into()));
    };
    image.map_err(logo_err)
}

pub fn render(c: &Content, words: &Words) -> Result<Vec<u8>, ReportError> {
    let t = c.template;
    let logo = t.logo.as_deref().map(load_logo).transpose()?;
    let font = Font::new(FONT.into(), 0).ok_or_else(|| ReportError::Render("the bundled font does not load".into()))?;
    let (pw, ph) = t.paper.size_pt();
    let width = pw - 2.0 * MARGIN;
    let cols = Columns::new(MARGIN, width);

    let mut flow = vec![Block::Header];
    if let Some(n) = c.notice {
        flow.push(Block::Notice(n));
    }
    flow.push(Block::Heading(words.statistics));
    flow.push(Block::TableHead);
    flow.extend((0..c.summary.channels.len()).map(Block::Row));
    if !c.graphs.is_empty() {
        flow.push(Block::Heading(words.graphs));
        flow.extend((0..c.graphs.len()).map(Block::Graph));
    }
    if t.include_alarms {
        flow.push(Block::Heading(words.alarms));
        if c.alarms.is_empty() {
            flow.push(Block::Text(words.no_alarms.to_string()));
        }
        flow.extend((0..c.alarms.len().min(MAX_ALARM_ROWS)).map(Block::AlarmRow));
        if c.alarms.len() > MAX_ALARM_ROWS {
            flow.push(Block::Text(format!("{} {}", c.alarms.len() - MAX_ALARM_ROWS, words.more_alarms)));
        }
    }
    let pages = paginate(flow, ph - 2.0 * MARGIN - FOOTER);

    let mut doc = Document::new();
    let lang = match t.language {
        Language::En => "en",
        Language::Ja => "ja",
    };
    doc.set_metadata(Metadata::new().title(t.title.clone()).language(lang.into()).creator("Meterdeck".into()));
    let trees = c
        .graphs
        .iter()
        .map(|svg| {
            let opts = usvg::Options { fontdb: fontdb(), font_family: FAMILY.into(), ..usvg::Options::default() };
            usvg::Tree::from_str(svg, &opts).map_err(|e| ReportError::Render(format!("graph SVG: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = pages.len();
    for (n, blocks) in pages.iter().enumerate() {
        let settings =
            PageSettings::from_wh(pw, ph).ok_or_else(|| ReportError::Render(format!("paper size {pw} x {ph}")))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut p = Painter { s: &mut surface, font: font.clone() };
        let mut y = MARGIN;
        for b in blocks {
            match b {
                Block::Header => {
                    let mut x = MARGIN;
                    if let Some(img) = &logo {
                        let (iw, ih) = img.size();
                        let scale = (48.0 / ih.max(1) as f32).min(150.0 / iw.max(1) as f32);
                        let size = Size::from_wh(iw as f32 * scale, ih as f32 * scale);
                        if let Some(size) = size {
                            p.s.push_transform(&krilla::geom::Transform::from_translate(x, y));
                            p.s.draw_image(img.clone(), size);
                            p.s.pop();
                            x += size.width() + 12.0;
                        }
                    }
                    p.text(x, y + 20.0, 18.0, &fit(&t.title, 18.0, pw - MARGIN - x));
                    let period = format!(
                        "{}: {} – {} ({})",
                        words.period,
                        local_time(c.summary.from, c.tz),
                        local_time(c.summary.to, c.tz),
                        t.time_zone
                    );
                    p.text(x, y + 40.0, 9.0, &period);
                    p.text(x, y + 54.0, 9.0, &format!("{}: {}", words.generated, local_time(c.generated, c.tz)));
                    p.hline(MARGIN, y + 66.0, width, 120);
                }
                Block::Notice(text) => {
                    p.rect(MARGIN, y + 2.0, width, 16.0, grey(235));
                    p.text(MARGIN + 6.0, y + 14.0, 10.0, text);
                }
                Block::Heading(text) => p.text(MARGIN, y + 16.0, 13.0, text),
                Block::TableHead => {
                    p.rect(MARGIN, y, width, ROW + 2.0, grey(225));
                    for (i, h) in head_cells(words).iter().enumerate() {
                        let h = fit(h, TABLE_FONT, cols.w[i] - 3.0);
                        if i < 2 {
                            p.text(cols.x[i] + 2.0, y + 9.0, TABLE_FONT, &h);
                        } else {
                            p.text_right(cols.x[i] + cols.w[i] - 2.0, y + 9.0, TABLE_FONT, &h);
                        }
                    }
                }
                Block::Row(r) => {
                    let cells = row_cells(&c.summary.channels[*r]);
                    for (i, cell) in cells.iter().enumerate() {
                        let cell = fit(cell, TABLE_FONT, cols.w[i] - 3.0);
                        if i < 2 {
                            p.text(cols.x[i] + 2.0, y + 8.0, TABLE_FONT, &cell);
                        } else {
                            p.text_right(cols.x[i] + cols.w[i] - 2.0, y + 8.0, TABLE_FONT, &cell);
                        }
                    }
                    p.hline(MARGIN, y + ROW, width, 210);
                }
                Block::Graph(g) => {
                    let tree = &trees[*g];
                    let (gw, gh) = (super::graph::WIDTH as f32, super::graph::HEIGHT as f32);
                    let scale = width / gw;
                    if let Some(size) = Size::from_wh(width, gh * scale.min(1.0)) {
                        p.s.push_transform(&krilla::geom::Transform::from_translate(MARGIN, y));
                        p.s.draw_svg(tree, size, SvgSettings::default());
                        p.s.pop();
                    }
                }
                Block::AlarmRow(a) => {
                    let e = &c.alarms[*a];
                    p.text(MARGIN + 2.0, y + 8.0, TABLE_FONT, &local_time(e.t, c.tz));
                    p.text(MARGIN + 92.0, y + 8.0, TABLE_FONT, e.severity.as_str());
                    let what = match &e.values {
                        Some(v) => format!("{} {v}", e.name),
                        None => e.name.clone(),
                    };
                    p.text(MARGIN + 140.0, y + 8.0, TABLE_FONT, &fit(&what, TABLE_FONT, width - 142.0));
                    p.hline(MARGIN, y + ROW, width, 225);
                }
                Block::Text(text) => p.text(MARGIN, y + 8.0, 8.0, text),
            }
            y += b.height();
        }
        let footer = format!("{} — {} {}/{}", t.title, words.page, n + 1, total);
        let footer = fit(&footer, 8.0, width);
        p.text_right(pw - MARGIN, ph - MARGIN + 8.0, 8.0, &footer);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| ReportError::Render(format!("writing the PDF: {e:?}")))
}
