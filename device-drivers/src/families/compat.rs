//! Model compatibility (SPEC 1.5): the oldest firmware each known model must
//! run for its family's driver to work. Data, not code: add a row per model.

use crate::driver::Identity;

struct Requirement {
    maker: &'static str,
    /// Matches the model and its variants (`LR8450` also `LR8450-01`).
    model: &'static str,
    min_firmware: &'static str,
    why: &'static str,
}

const TABLE: &[Requirement] = &[
    Requirement {
        maker: "HIOKI",
        model: "LR8450",
        min_firmware: "V2.00",
        why: "`:MEMory:GETReal` snapshots and `:MEMory:VREAL?`",
    },
    Requirement { maker: "HIOKI", model: "PW3390", min_firmware: "V1.10", why: "`:MEASure?` item lists" },
];

/// A warning when `identity` is a known model on firmware older than the
/// model needs (or firmware we cannot read); `None` when fine or unknown.
pub fn check_compat(identity: &Identity) -> Option<String> {
    let model = identity.model.trim();
    let req = TABLE.iter().find(|r| {
        identity.maker.trim().eq_ignore_ascii_case(r.maker)
            && (model.eq_ignore_ascii_case(r.model)
                || model.get(..r.model.len()).is_some_and(|m| m.eq_ignore_ascii_case(r.model))
                    && model.get(r.model.len()..).is_some_and(|rest| rest.starts_with('-')))
    })?;
    let name = format!("{} {}", identity.maker.trim(), model);
    let Some(have) = parse_version(&identity.firmware) else {
        return Some(format!(
            "{name}: cannot read firmware version `{}`; {} or newer is needed for {}",
            identity.firmware, req.min_firmware, req.why
        ));
    };
    let need = parse_version(req.min_firmware)?;
    (have < need).then(|| {
        format!(
            "{name}: firmware {} is older than {}, which is needed for {}; update the instrument",
            identity.firmware.trim(),
            req.min_firmware,
            req.why
        )
    })
}

/// `V2.10` / `v1.3` / `2.10.1` -> [2, 10, 1] (compared part by part).
fn parse_version(text: &str) -> Option<Vec<u32>> {
    let t = text.trim();
    let t = t.strip_prefix(['V', 'v']).unwrap_or(t);
    let parts: Option<Vec<u32>> = t.split('.').map(|p| p.parse::<u32>().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(maker: &str, model: &str, firmware: &str) -> Identity {
        Identity { maker: maker.into(), model: model.into(), serial: "1".into(), firmware: firmware.into() }
    }

    #[test]
    fn new_enough_firmware_passes() {
        assert_eq!(check_compat(&id("HIOKI", "LR8450", "V2.10")), None);
        assert_eq!(check_compat(&id("HIOKI", "LR8450", "V2.00")), None);
        assert_eq!(check_compat(&id("HIOKI", "PW3390", "V1.30")), None);
        assert_eq!(check_compat(&id("hioki", "LR8450-01", "v2.0")), None);
    }

    #[test]
    fn old_firmware_warns() {
        let w = check_compat(&id("HIOKI", "LR8450", "V1.52")).unwrap();
        assert!(w.contains("V1.52") && w.contains("V2.00"), "{w}");
        assert!(check_compat(&id("HIOKI", "LR8450-01", "V1.99")).is_some());
        assert!(check_compat(&id("HIOKI", "PW3390", "V1.09")).unwrap().contains("V1.10"));
    }

    #[test]
    fn unreadable_firmware_warns_and_unknown_models_pass() {
        assert!(check_compat(&id("HIOKI", "LR8450", "beta")).unwrap().contains("cannot read"));
        assert_eq!(check_compat(&id("HIOKI", "LR8450X", "V0.1")), None);
        assert_eq!(check_compat(&id("Keysight", "34465A", "A.02.14")), None);
        assert_eq!(check_compat(&Identity::default()), None);
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("V1.10") > parse_version("V1.9"));
        assert_eq!(parse_version("2.10.1"), Some(vec![2, 10, 1]));
        assert_eq!(parse_version(""), None);
        assert_eq!(parse_version("V"), None);
    }
}
