//! Cells of the CSV files the API writes. A text cell is quoted (RFC 4180:
//! inner quotes doubled), never breaks its line (CR, LF and other control
//! characters become spaces), and cannot start a spreadsheet formula: a
//! cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets a leading `'`
//! (the OWASP advice against CSV injection). Times and numbers are written
//! by the exporter itself and need none of it.

/// A text cell, quoted.
pub fn text_cell(s: &str) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{flat}") } else { flat };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_one_cell_and_never_a_formula() {
        assert_eq!(text_cell("dev/temp [°C]"), "\"dev/temp [°C]\"");
        assert_eq!(text_cell("dev/x [V\"\r\nEVIL,1]"), "\"dev/x [V\"\"  EVIL,1]\"");
        for f in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            let c = text_cell(f);
            assert!(c.starts_with("\"'"), "{f:?} -> {c}");
            assert!(!c.contains(['\r', '\n', '\t']), "{c}");
        }
    }
}
