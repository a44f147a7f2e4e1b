//! The rules of licence terms (SPEC 7.1-7.3), on plain values: applying a
//! card, changing a plan with its day conversion, the 13-month cap. No
//! storage, no clock: `now` is given, so tests walk a year in microseconds.
//! Dates are UTC; a month is a calendar month (31 January + 1 month =
//! 28/29 February, as chrono clamps it).

use chrono::{DateTime, Months, Utc};
use meterdeck_wire::licence::{Plan, RemotePlan};

use crate::store::{Card, CardProduct, GatewayTerm, LicenceState, TimeMs};

pub const DAY_MS: i64 = 86_400_000;
/// Stacking and conversion never reach further than this many months ahead.
pub const CAP_MONTHS: u32 = 13;
/// A lapsed gateway may resume within this many days; then its registration goes.
pub const GATEWAY_GRACE_DAYS: i64 = 31;
/// Card terms the authority issues.
pub const CARD_MONTHS: [u32; 3] = [1, 3, 12];

/// `t` plus `months` calendar months, UTC (the end of a shorter month when
/// the day does not exist).
pub fn add_months(t: TimeMs, months: u32) -> TimeMs {
    let d = DateTime::<Utc>::from_timestamp_millis(t).unwrap_or_default();
    d.checked_add_months(Months::new(months)).map_or(TimeMs::MAX, |d| d.timestamp_millis())
}

/// How far ahead a term may reach at `now`.
pub fn cap(now: TimeMs) -> TimeMs {
    add_months(now, CAP_MONTHS)
}

/// `YYYY-MM-DD HH:MM UTC`, for messages and the history.
pub fn utc(t: TimeMs) -> String {
    DateTime::<Utc>::from_timestamp_millis(t)
        .map_or_else(|| t.to_string(), |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// Why a licence operation was refused; each says what to do. Nothing is
/// changed by a refused operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    #[error(
        "applying this card would take the term to {would}, more than {CAP_MONTHS} months ahead (at most {cap}); keep the card and apply it after {after}"
    )]
    OverCap { would: String, cap: String, after: String },
    #[error(
        "this card is for {card}, but the account has {current} until {until}; apply a {current} card, or change the plan to {card} first"
    )]
    OtherPlan { card: String, current: String, until: String },
    #[error("the account has {0} without a term (granted by the authority); a card cannot extend it")]
    NoTerm(String),
    #[error("the plan can change once a month; the last change was {last}, the next is possible from {next}")]
    TooSoon { last: String, next: String },
    #[error("the account is on {0} already")]
    SamePlan(String),
    #[error(
        "the account is on Free: a plan change converts the days left of a paid term; apply a Standard or Pro card instead"
    )]
    NoPaidTerm,
    #[error("the plan can change to standard or pro only (Free comes when the term ends)")]
    ToFree,
    #[error("agent {0} has no Remote plan term; apply a Remote Basic or Pro card for it")]
    NoGateway(String),
    /// The change was made already (by another process's sweep).
    #[error("already done")]
    AlreadyDone,
    #[error(
        "the Remote plan of agent {agent} ended on {ended}, more than {GATEWAY_GRACE_DAYS} days ago, and its registration was removed; register the agent again"
    )]
    GatewayGone { agent: String, ended: String },
}

/// The plan and term in force at `now`: a lapsed term is Free.
pub fn effective(state: &LicenceState, now: TimeMs) -> (Plan, Option<TimeMs>) {
    match state.expires {
        Some(end) if now >= end => (Plan::Free, None),
        e => (state.plan, e),
    }
}

/// Applies `card` to `state` at `now`; returns what happened, for the history.
pub fn apply_card(state: &mut LicenceState, card: &Card, now: TimeMs) -> Result<String, TermError> {
    let months = card.months;
    match &card.product {
        CardProduct::Plan { plan } => {
            let (current, expires) = effective(state, now);
            let from = match (current, expires) {
                (Plan::Free, _) => now,
                (p, Some(end)) if p == *plan => end,
                (p, None) if p == *plan => return Err(TermError::NoTerm(p.name().into())),
                (p, until) => {
                    return Err(TermError::OtherPlan {
                        card: plan.name().into(),
                        current: p.name().into(),
                        until: until.map_or("further notice".into(), utc),
                    });
                }
            };
            let end = add_months(from, months);
            check_cap(end, from, months, now)?;
            state.plan = *plan;
            state.expires = Some(end);
            // A new paid term ends any over-capacity countdown of a lapse;
            // the storage sweep sets it again if still over.
            state.over_capacity_since = None;
            Ok(format!("{months}-month {} card: term until {}", plan.name(), utc(end)))
        }
        CardProduct::Remote { plan, agent } => {
            let existing = state.gateways.iter().position(|g| &g.agent == agent);
            let from = match existing.map(|i| &state.gateways[i]) {
                Some(g) if now < g.expires && g.plan != *plan => {
                    return Err(TermError::OtherPlan {
                        card: plan.name().into(),
                        current: g.plan.name().into(),
                        until: utc(g.expires),
                    });
                }
                Some(g) if now < g.expires => g.expires,
                Some(g) if now >= g.expires + GATEWAY_GRACE_DAYS * DAY_MS => {
                    return Err(TermError::GatewayGone { agent: agent.clone(), ended: utc(g.expires) });
                }
                // Lapsed within the grace period, or new: from today.
                _ => now,
            };
            let end = add_months(from, months);
            check_cap(end, from, months, now)?;
            let term =
                GatewayTerm { agent: agent.clone(), plan: *plan, expires: end, plan_changed: None, removed: None };
            match existing {
                Some(i) => {
                    state.gateways[i].plan = *plan;
                    state.gateways[i].expires = end;
                }
                None => state.gateways.push(term),
            }
            Ok(format!("{months}-month {} card for agent {agent}: term until {}", plan.name(), utc(end)))
        }
    }
}

fn check_cap(end: TimeMs, from: TimeMs, months: u32, now: TimeMs) -> Result<(), TermError> {
    let cap = cap(now);
    if end <= cap {
        return Ok(());
    }
    // The earliest day the card fits: when `from + months` is 13 months ahead.
    let mut after = now;
    while add_months(from, months) > add_months(after, CAP_MONTHS) {
        after += DAY_MS;
    }
    Err(TermError::OverCap { would: utc(end), cap: utc(cap), after: utc(after) })
}

/// Whole days left of a term ending `end` at `now`.
pub fn days_left(end: TimeMs, now: TimeMs) -> i64 {
    ((end - now).max(0)) / DAY_MS
}

/// Days of plan `to` worth `days` of plan `from`: Standard = Pro x 5,
/// Basic = Pro x 2, rounded down.
pub fn convert_days(days: i64, pro_to_other: bool, factor: i64) -> i64 {
    if pro_to_other { days * factor } else { days / factor }
}

fn check_once_a_month(last: Option<TimeMs>, now: TimeMs) -> Result<(), TermError> {
    if let Some(last) = last {
        let next = add_months(last, 1);
        if now < next {
            return Err(TermError::TooSoon { last: utc(last), next: utc(next) });
        }
    }
    Ok(())
}

/// Changes the account's plan at `now`, converting the days left (SPEC 7.2).
pub fn change_plan(state: &mut LicenceState, to: Plan, now: TimeMs) -> Result<String, TermError> {
    if to == Plan::Free {
        return Err(TermError::ToFree);
    }
    let (current, expires) = effective(state, now);
    if current == Plan::Free {
        return Err(TermError::NoPaidTerm);
    }
    if current == to {
        return Err(TermError::SamePlan(to.name().into()));
    }
    check_once_a_month(state.plan_changed, now)?;
    let detail = match expires {
        None => {
            state.plan = to;
            format!("{} to {} (no term)", current.name(), to.name())
        }
        Some(end) => {
            let days = days_left(end, now);
            let new_days = convert_days(days, current == Plan::Pro, 5);
            let new_end = (now + new_days * DAY_MS).min(cap(now));
            state.plan = to;
            state.expires = Some(new_end);
            format!(
                "{} to {}: {days} days left became {} days, term until {}{}",
                current.name(),
                to.name(),
                days_left(new_end, now),
                utc(new_end),
                if new_end < now + new_days * DAY_MS { " (capped at 13 months)" } else { "" }
            )
        }
    };
    state.plan_changed = Some(now);
    Ok(detail)
}

/// Changes a gateway's Remote plan (once a month per gateway), converting
/// its days left: Basic days = Pro days x 2.
pub fn change_gateway_plan(
    state: &mut LicenceState,
    agent: &str,
    to: RemotePlan,
    now: TimeMs,
) -> Result<String, TermError> {
    let g = state
        .gateways
        .iter_mut()
        .find(|g| g.agent == agent && now < g.expires)
        .ok_or_else(|| TermError::NoGateway(agent.into()))?;
    if g.plan == to {
        return Err(TermError::SamePlan(to.name().into()));
    }
    check_once_a_month(g.plan_changed, now)?;
    let days = days_left(g.expires, now);
    let new_days = convert_days(days, g.plan == RemotePlan::Pro, 2);
    let new_end = (now + new_days * DAY_MS).min(cap(now));
    let from = g.plan;
    g.plan = to;
    g.expires = new_end;
    g.plan_changed = Some(now);
    Ok(format!(
        "agent {agent}: {} to {}: {days} days left became {} days, term until {}",
        from.name(),
        to.name(),
        days_left(new_end, now),
        utc(new_end)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2027-01-15 00:00 UTC
    const T0: TimeMs = 1_799_971_200_000;

    fn free() -> LicenceState {
        LicenceState {
            account: "acme".into(),
            plan: Plan::Free,
            expires: None,
            plan_changed: None,
            gateways: vec![],
            over_capacity_since: None,
            time_zone: None,
        }
    }

    fn card(plan: Plan, months: u32) -> Card {
        Card {
            code_hash: "h".into(),
            account: "acme".into(),
            product: CardProduct::Plan { plan },
            months,
            issued_ms: 0,
            used_ms: None,
            used_by: None,
        }
    }

    #[test]
    fn months_are_calendar_months_in_utc() {
        assert_eq!(utc(T0), "2027-01-15 00:00 UTC");
        assert_eq!(utc(add_months(T0, 1)), "2027-02-15 00:00 UTC");
        let jan31 = T0 + 16 * DAY_MS;
        assert_eq!(utc(add_months(jan31, 1)), "2027-02-28 00:00 UTC");
        assert_eq!(utc(cap(T0)), "2028-02-15 00:00 UTC");
    }

    #[test]
    fn cards_stack_up_to_thirteen_months() {
        let mut s = free();
        apply_card(&mut s, &card(Plan::Standard, 12), T0).unwrap();
        assert_eq!(s.expires, Some(add_months(T0, 12)));
        apply_card(&mut s, &card(Plan::Standard, 1), T0).unwrap();
        assert_eq!(s.expires, Some(add_months(T0, 13)));
        let before = s.clone();
        let e = apply_card(&mut s, &card(Plan::Standard, 1), T0).unwrap_err();
        assert!(matches!(e, TermError::OverCap { .. }), "{e}");
        assert!(e.to_string().contains("apply it after 2027-02-15"), "{e}");
        assert_eq!(s, before, "a refused card changes nothing");
        // A month later it fits.
        apply_card(&mut s, &card(Plan::Standard, 1), add_months(T0, 1)).unwrap();
        // Another plan's card is refused while the term runs.
        assert!(matches!(apply_card(&mut s, &card(Plan::Pro, 1), T0), Err(TermError::OtherPlan { .. })));
    }

    #[test]
    fn a_lapsed_term_is_free_and_a_card_starts_today() {
        let mut s = free();
        apply_card(&mut s, &card(Plan::Pro, 1), T0).unwrap();
        let later = add_months(T0, 2);
        assert_eq!(effective(&s, later), (Plan::Free, None));
        apply_card(&mut s, &card(Plan::Standard, 3), later).unwrap();
        assert_eq!(effective(&s, later), (Plan::Standard, Some(add_months(later, 3))));
    }

    #[test]
    fn plan_change_converts_days_once_a_month() {
        let mut s = free();
        apply_card(&mut s, &card(Plan::Pro, 1), T0).unwrap(); // 31 days of Pro
        let d = change_plan(&mut s, Plan::Standard, T0).unwrap();
        assert_eq!(s.expires, Some(T0 + 155 * DAY_MS), "{d}"); // 31 x 5
        let e = change_plan(&mut s, Plan::Pro, T0 + DAY_MS).unwrap_err();
        assert!(matches!(e, TermError::TooSoon { .. }), "{e}");
        // A month on: 124 Standard days left -> 24 Pro days (rounded down).
        let t = add_months(T0, 1);
        change_plan(&mut s, Plan::Pro, t).unwrap();
        assert_eq!(s.expires, Some(t + 24 * DAY_MS));
        // The 13-month cap: 300 Pro days x 5 = 1500 Standard days, capped.
        let mut s = free();
        for _ in 0..4 {
            apply_card(&mut s, &card(Plan::Pro, 3), T0).unwrap();
        }
        change_plan(&mut s, Plan::Standard, T0).unwrap();
        assert_eq!(s.expires, Some(cap(T0)));
        assert_eq!(change_plan(&mut free(), Plan::Pro, T0), Err(TermError::NoPaidTerm));
    }

    #[test]
    fn gateways_stack_convert_and_lapse() {
        let mut s = free();
        let remote = |plan, months| Card {
            product: CardProduct::Remote { plan, agent: "a-1".into() },
            ..card(Plan::Pro, months)
        };
        apply_card(&mut s, &remote(RemotePlan::Pro, 1), T0).unwrap();
        assert_eq!(s.gateways[0].expires, add_months(T0, 1));
        change_gateway_plan(&mut s, "a-1", RemotePlan::Basic, T0).unwrap();
        assert_eq!(s.gateways[0].expires, T0 + 62 * DAY_MS);
        // Lapsed 10 days: a card resumes it from that day.
        let t = T0 + 72 * DAY_MS;
        apply_card(&mut s, &remote(RemotePlan::Basic, 1), t).unwrap();
        assert_eq!(s.gateways[0].expires, add_months(t, 1));
        // Lapsed more than 31 days: gone.
        let t = add_months(t, 1) + 32 * DAY_MS;
        assert!(matches!(apply_card(&mut s, &remote(RemotePlan::Basic, 1), t), Err(TermError::GatewayGone { .. })));
    }
}
