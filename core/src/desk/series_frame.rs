//! The Viewer's series as one binary frame (issue 17): the window reads it
//! as an `ArrayBuffer` and views its columns as `Float64Array`s without
//! parsing a number, where JSON of a year's buckets took longer to parse
//! than core took to compute it.
//!
//! Layout, little-endian, every column 8-byte aligned (so the web view can
//! map typed arrays straight onto the buffer):
//!
//! ```text
//! header   "MDSF" | u32 version (1) | u32 channel count | u32 0
//! channel  i64 channel id | u32 flags (bit 0: raw) | u32 n
//!          f64[n] t (ms since the epoch; exact, all stay below 2^53)
//!          f64[n] min (NaN: no value, a gap)
//!          f64[n] max (left out when raw: it equals min)
//! ```
//!
//! The reader is `ui/src/viewer/frame.ts`; `ui/src/fixtures/series-frame.bin`
//! is written by the test below and read by the UI's test, so both ends
//! agree on these bytes.

use super::views::SeriesView;

pub const FRAME_MAGIC: &[u8; 4] = b"MDSF";
pub const FRAME_VERSION: u32 = 1;
pub const FLAG_RAW: u32 = 1;

/// Bytes `views` take as a frame.
pub fn frame_len(views: &[SeriesView]) -> usize {
    16 + views.iter().map(|v| 16 + v.t.len() * 8 * if v.raw { 2 } else { 3 }).sum::<usize>()
}

pub fn encode(views: &[SeriesView]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame_len(views));
    out.extend_from_slice(FRAME_MAGIC);
    out.extend_from_slice(&FRAME_VERSION.to_le_bytes());
    out.extend_from_slice(&u32::try_from(views.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for v in views {
        // The view's three columns have one length by construction; a
        // shorter min/max is padded with gaps rather than shifting columns.
        let n = v.t.len();
        out.extend_from_slice(&v.channel_id.to_le_bytes());
        out.extend_from_slice(&(if v.raw { FLAG_RAW } else { 0 }).to_le_bytes());
        out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        for &t in &v.t {
            out.extend_from_slice(&(t as f64).to_le_bytes());
        }
        let mut column = |c: &[Option<f64>]| {
            for k in 0..n {
                out.extend_from_slice(&c.get(k).copied().flatten().unwrap_or(f64::NAN).to_le_bytes());
            }
        };
        column(&v.min);
        if !v.raw {
            column(&v.max);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<SeriesView> {
        vec![
            SeriesView {
                channel_id: 7,
                raw: true,
                t: vec![1_790_000_000_000, 1_790_000_001_000, 1_790_000_002_000],
                min: vec![Some(21.5), None, Some(-0.125)],
                max: vec![Some(21.5), None, Some(-0.125)],
            },
            SeriesView {
                channel_id: -2,
                raw: false,
                t: vec![1_790_000_000_000, 1_790_000_060_000],
                min: vec![Some(1.0), None],
                max: vec![Some(3.5), None],
            },
            SeriesView { channel_id: 9, raw: false, t: vec![], min: vec![], max: vec![] },
        ]
    }

    fn f64_at(b: &[u8], at: usize) -> f64 {
        f64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn layout_is_aligned_and_complete() {
        let views = sample();
        let b = encode(&views);
        assert_eq!(b.len(), frame_len(&views));
        assert_eq!(b.len() % 8, 0);
        assert_eq!(&b[..4], b"MDSF");
        assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()), 3);
        // first channel: header at 16, t at 32, min at 56
        assert_eq!(i64::from_le_bytes(b[16..24].try_into().unwrap()), 7);
        assert_eq!(u32::from_le_bytes(b[24..28].try_into().unwrap()), FLAG_RAW);
        assert_eq!(u32::from_le_bytes(b[28..32].try_into().unwrap()), 3);
        assert_eq!(f64_at(&b, 32), 1_790_000_000_000.0);
        assert_eq!(f64_at(&b, 56), 21.5);
        assert!(f64_at(&b, 64).is_nan());
        // second channel (no max column before it: the first was raw)
        let second = 32 + 3 * 8 * 2;
        assert_eq!(i64::from_le_bytes(b[second..second + 8].try_into().unwrap()), -2);
        assert_eq!(f64_at(&b, second + 16 + 2 * 8), 1.0, "min column follows t");
        assert_eq!(f64_at(&b, second + 16 + 4 * 8), 3.5, "max column follows min");
    }

    #[test]
    fn empty_is_a_header() {
        assert_eq!(encode(&[]).len(), 16);
    }

    /// The UI's decoder test reads this file (`ui/src/viewer/frame.test.ts`);
    /// `MD_WRITE_FIXTURES=1` rewrites it.
    #[test]
    fn ui_fixture_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/fixtures/series-frame.bin");
        let bytes = encode(&sample());
        if std::env::var_os("MD_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).expect("ui/src/fixtures/series-frame.bin (MD_WRITE_FIXTURES=1 writes it)");
        assert!(committed == bytes, "ui/src/fixtures/series-frame.bin is stale: rerun with MD_WRITE_FIXTURES=1");
    }
}
