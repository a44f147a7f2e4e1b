//! Number formats the simulated instruments print. Enough digits are kept
//! for the channel's resolution, so parsing the text gives back exactly the
//! quantised value.

use std::fmt::Write;

/// Decimal exponent of |v| (v finite, non-zero), robust at powers of ten.
fn exponent10(v: f64) -> i32 {
    let a = v.abs();
    let mut e = a.log10().floor() as i32;
    if 10f64.powi(e + 1) <= a {
        e += 1;
    } else if 10f64.powi(e) > a {
        e -= 1;
    }
    e
}

/// NR3 with a signed two-digit exponent, e.g. `+1.234E+00`, `-5.000E-01`.
/// `decimals` is the channel resolution (10^-decimals); `None` prints the
/// shortest text that round-trips (forced values).
pub(crate) fn nr3(v: f64, decimals: Option<u8>, out: &mut String) {
    let start = out.len();
    let ok = match decimals {
        Some(d) => {
            let prec = if v == 0.0 || !v.is_finite() {
                usize::from(d)
            } else {
                (exponent10(v) + i32::from(d)).max(0) as usize
            };
            write!(out, "{v:+.prec$e}")
        }
        None => write!(out, "{v:+e}"),
    };
    if ok.is_err() {
        return;
    }
    // Rust prints `e-1` / `e12`; NR3 wants `E-01` / `E+12`.
    let Some(epos) = out[start..].rfind('e').map(|p| p + start) else { return };
    let exp: i32 = out[epos + 1..].parse().unwrap_or(0);
    out.truncate(epos);
    let _ = write!(out, "E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs());
}

/// Hioki power-meter style: engineering exponent (multiple of 3) with a
/// one-digit-or-more signed exponent, e.g. `+100.02E+0`, `+1.23456E+3`,
/// `+950.0E-3`.
pub(crate) fn engineering(v: f64, decimals: u8, out: &mut String) {
    let d = i32::from(decimals);
    if v == 0.0 || !v.is_finite() {
        let _ = write!(out, "{:+.*}E+0", usize::from(decimals), if v.is_finite() { v } else { 0.0 });
        return;
    }
    let e3 = exponent10(v).div_euclid(3) * 3;
    // Divide or multiply by an exact power of ten (one rounding only).
    let mantissa = if e3 >= 0 { v / 10f64.powi(e3) } else { v * 10f64.powi(-e3) };
    let prec = (d + e3).max(0) as usize;
    let _ = write!(out, "{mantissa:+.prec$}E{}{}", if e3 < 0 { '-' } else { '+' }, e3.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::waveform::quantise;
    use proptest::prelude::*;

    fn s(f: impl Fn(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn nr3_examples() {
        assert_eq!(s(|o| nr3(1.234, Some(3), o)), "+1.234E+00");
        assert_eq!(s(|o| nr3(-0.5, Some(3), o)), "-5.00E-01");
        assert_eq!(s(|o| nr3(23.4, Some(1), o)), "+2.34E+01");
        assert_eq!(s(|o| nr3(1000.0, Some(1), o)), "+1.0000E+03");
        assert_eq!(s(|o| nr3(0.0, Some(2), o)), "+0.00E+00");
        assert_eq!(s(|o| nr3(12.345678, None, o)), "+1.2345678E+01");
    }

    #[test]
    fn engineering_examples() {
        assert_eq!(s(|o| engineering(100.02, 2, o)), "+100.02E+0");
        assert_eq!(s(|o| engineering(1.0, 4, o)), "+1.0000E+0");
        assert_eq!(s(|o| engineering(1234.56, 2, o)), "+1.23456E+3");
        assert_eq!(s(|o| engineering(0.95, 4, o)), "+950.0E-3");
        assert_eq!(s(|o| engineering(-3.5, 2, o)), "-3.50E+0");
    }

    proptest! {
        #[test]
        fn printed_values_parse_back_exactly(x in -1.0e6f64..1.0e6, d in 0u8..7) {
            let q = quantise(x, d);
            let a = s(|o| nr3(q, Some(d), o));
            prop_assert_eq!(a.parse::<f64>().unwrap(), q, "{}", a);
            let b = s(|o| engineering(q, d, o));
            prop_assert_eq!(b.parse::<f64>().unwrap(), q, "{}", b);
            let c = s(|o| nr3(x, None, o));
            prop_assert_eq!(c.parse::<f64>().unwrap(), x, "{}", c);
        }
    }
}
