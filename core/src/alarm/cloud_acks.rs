//! Acknowledgements made in the cloud (issue 16): the cloud publishes each
//! until this agent's synced journal shows it, so the same one may arrive
//! many times. The writer applies each id once, through the alarm engine,
//! as `<user>@cloud` with the comment; the ids applied are kept in a
//! settings key (the latest [`KEEP`]), so a restart does not apply one again.

/// Settings key holding the JSON list of the ids applied.
pub const SEEN_KEY: &str = "alarm.cloud_acks_seen";
/// Ids remembered; the cloud stops resending long before this many follow.
pub const KEEP: usize = 256;

fn parse(text: Option<&str>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

pub fn is_seen(text: Option<&str>, id: &str) -> bool {
    parse(text).iter().any(|s| s == id)
}

/// The settings value with `id` added (the oldest dropped past [`KEEP`]).
pub fn add_seen(text: Option<&str>, id: &str) -> String {
    let mut all = parse(text);
    all.retain(|s| s != id);
    all.push(id.to_owned());
    let cut = all.len().saturating_sub(KEEP);
    serde_json::to_string(&all[cut..]).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_once_and_the_oldest_go() {
        let mut v = add_seen(None, "a");
        assert!(is_seen(Some(&v), "a") && !is_seen(Some(&v), "b"));
        v = add_seen(Some(&v), "a");
        assert_eq!(v, r#"["a"]"#);
        for i in 0..KEEP {
            v = add_seen(Some(&v), &i.to_string());
        }
        assert!(!is_seen(Some(&v), "a") && is_seen(Some(&v), "0"));
        assert!(!is_seen(Some("garbage"), "a"));
    }
}
