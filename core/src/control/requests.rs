//! Control requests from the command line: `meterdeck-agent control`
//! leaves a request in the store's settings; the running agent hands it to
//! the instrument's task (between two polls) and writes the result under
//! its id, which the command waits for. Old requests and results are
//! dropped as new ones are added.

use serde::{Deserialize, Serialize};

use super::action::{ControlAction, ControlOutcome};
use crate::model::TimeMs;

/// Settings key holding a JSON list of [`ControlRequest`]s.
pub const CONTROL_REQUESTS_KEY: &str = "agent.control_requests";
/// Settings key holding a JSON list of [`ControlResult`]s.
pub const CONTROL_RESULTS_KEY: &str = "agent.control_results";
/// Requests and results older than this are dropped.
const KEEP_MS: TimeMs = 10 * 60 * 1000;

/// A console not used for this long is free again (the window's locks and
/// the command line's view of them agree on it).
pub const CONSOLE_IDLE_MS: TimeMs = 15 * 60 * 1000;
/// Settings key holding the window's console holders (a JSON list of
/// [`ConsoleHold`]): the window keeps its console locks in memory and
/// publishes them here, so that the command line (and the agent carrying
/// out its requests) refuses to control an instrument someone operates in
/// the window.
pub const CONSOLE_HOLDS_KEY: &str = "desk.console_holds";

/// One instrument console held in the window (or remotely, from the cloud).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConsoleHold {
    pub instrument: String,
    pub operator: String,
    #[ts(type = "number")]
    pub since: TimeMs,
    #[ts(type = "number")]
    pub last_used: TimeMs,
}

/// Who holds `instrument`'s console in the window now, if anyone (a
/// console idle for `idle_ms` is free, as in the window).
pub fn console_hold(text: Option<&str>, instrument: &str, now: TimeMs, idle_ms: TimeMs) -> Option<ConsoleHold> {
    parse::<ConsoleHold>(text).into_iter().find(|h| h.instrument == instrument && now - h.last_used < idle_ms)
}

/// Why a command-line request for a held instrument is refused.
pub fn held_refusal(hold: &ConsoleHold, label: &str) -> String {
    format!(
        "{label} refused: the console of `{}` is held in the window by {} since {}; \
         ask them to release it (Console screen) and try again",
        hold.instrument,
        hold.operator,
        crate::fmt::format_time(hold.since)
    )
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlRequest {
    /// Unique per request (the command picks one).
    pub id: String,
    pub instrument: String,
    pub action: ControlAction,
    pub at: TimeMs,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlResult {
    pub id: String,
    pub at: TimeMs,
    pub result: Result<ControlOutcome, String>,
}

fn parse<T: serde::de::DeserializeOwned>(text: Option<&str>) -> Vec<T> {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

pub fn parse_requests(text: Option<&str>) -> Vec<ControlRequest> {
    parse(text)
}

pub fn parse_results(text: Option<&str>) -> Vec<ControlResult> {
    parse(text)
}

/// The settings value after adding a request (what the CLI writes).
pub fn add_request(existing: Option<&str>, req: ControlRequest) -> String {
    let mut all = parse_requests(existing);
    all.retain(|r| req.at - r.at < KEEP_MS);
    all.push(req);
    serde_json::to_string(&all).unwrap_or_else(|_| "[]".into())
}

/// The settings value after adding a result (what the agent writes).
pub fn add_result(existing: Option<&str>, res: ControlResult) -> String {
    let mut all = parse_results(existing);
    all.retain(|r| res.at - r.at < KEEP_MS);
    all.push(res);
    serde_json::to_string(&all).unwrap_or_else(|_| "[]".into())
}

/// The result of request `id`, once the agent has written it.
pub fn find_result(text: Option<&str>, id: &str) -> Option<ControlResult> {
    parse_results(text).into_iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_results_round_trip_and_age_out() {
        let req =
            |id: &str, at| ControlRequest { id: id.into(), instrument: "a".into(), action: ControlAction::Stop, at };
        let one = add_request(None, req("1", 0));
        let two = add_request(Some(&one), req("2", KEEP_MS + 1));
        assert_eq!(parse_requests(Some(&two)).iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["2"]);
        assert!(parse_requests(Some("garbage")).is_empty());
        let res = add_result(None, ControlResult { id: "2".into(), at: 5, result: Err("refused".into()) });
        assert_eq!(find_result(Some(&res), "2").unwrap().result, Err("refused".to_string()));
        assert!(find_result(Some(&res), "1").is_none());
    }

    #[test]
    fn console_holds_expire_when_idle() {
        let holds = serde_json::to_string(&[ConsoleHold {
            instrument: "log".into(),
            operator: "bob".into(),
            since: 1_000,
            last_used: 5_000,
        }])
        .unwrap();
        let h = console_hold(Some(&holds), "log", 6_000, 10_000).unwrap();
        assert!(
            held_refusal(&h, "stop measurement")
                .starts_with("stop measurement refused: the console of `log` is held in the window by bob since ")
        );
        assert!(console_hold(Some(&holds), "log", 15_000, 10_000).is_none());
        assert!(console_hold(Some(&holds), "dmm", 6_000, 10_000).is_none());
        assert!(console_hold(Some("garbage"), "log", 6_000, 10_000).is_none());
    }
}
