//! The bundled font (VL PGothic: Latin and Japanese; licence beside it in
//! core/assets/fonts/). Reports never look up system fonts, so a PDF looks
//! the same on every machine.

pub static FONT: &[u8] = include_bytes!("../../assets/fonts/VL-PGothic-Regular.ttf");
/// The family name inside the font file (usvg resolves SVG text by it).
pub const FAMILY: &str = "VL PGothic";
