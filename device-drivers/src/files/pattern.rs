//! Which remote files a source collects: a shell-style name pattern
//! (`*.MEM`, `DATA_??.csv`), matched against the file name only.

/// A checked name pattern; `*` (the default) matches every file.
#[derive(Clone, Debug)]
pub struct NamePattern {
    text: String,
    pattern: glob::Pattern,
}

impl NamePattern {
    pub fn new(text: &str) -> Result<NamePattern, String> {
        let pattern = glob::Pattern::new(text).map_err(|e| format!("`{text}` is not a name pattern: {e}"))?;
        Ok(NamePattern { text: text.to_string(), pattern })
    }

    pub fn any() -> NamePattern {
        NamePattern::new("*").expect("`*` is a pattern")
    }

    /// Case-insensitive: instruments write `DATA.MEM` and `data.mem` alike.
    pub fn matches(&self, file_name: &str) -> bool {
        let opts = glob::MatchOptions { case_sensitive: false, ..glob::MatchOptions::new() };
        self.pattern.matches_with(file_name, opts)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_names_case_insensitively() {
        let p = NamePattern::new("*.mem").unwrap();
        assert!(p.matches("W001.MEM"));
        assert!(!p.matches("W001.CSV"));
        assert!(NamePattern::any().matches("anything.bin"));
        assert!(NamePattern::new("[").unwrap_err().contains("`[`"));
    }
}
