//! The account limits of SPEC 7, checked where a thing is created. A
//! refusal names the plan, the limit, the count and how to lift it, and is
//! checked before anything is written, so it changes nothing.
//! (Counting and inserting are two steps: two creations racing at the
//! limit may both pass; the next one is refused.)

use meterdeck_wire::i18n::Text;
use meterdeck_wire::licence::{Limits, Plan};

use super::{LicenceOpError, terms};
use crate::store::{Storage, TimeMs};

/// A refusal: the API answers it as `{"code": "plan_limit", ...}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlanLimit {
    /// The field of `Limits` (users, teams, agents, groups, storage_bytes, web_api, ...).
    pub limit: &'static str,
    pub plan: Plan,
    pub max: u64,
    pub count: u64,
    /// English (`text` in English).
    pub message: String,
    /// The refusal by key (locales/*/cloud.ftl), answered in the caller's language.
    pub text: Text,
}

impl PlanLimit {
    /// A refusal saying `text` (its English is the `message`).
    pub fn new(limit: &'static str, plan: Plan, max: u64, count: u64, text: Text) -> PlanLimit {
        PlanLimit { limit, plan, max, count, message: text.to_string(), text }
    }
}

/// What a limit counts (`field` of `Limits`), as a message: "users",
/// "measurement groups", ...
fn noun(field: &str) -> Text {
    match field {
        "users" | "teams" | "agents" | "groups" => Text::new(&format!("cloud-limit-noun-{field}")),
        other => Text::plain(other),
    }
}

/// The plan and limits in force for `account` at `now`.
pub async fn in_force(store: &dyn Storage, account: &str, now: TimeMs) -> Result<(Plan, Limits), LicenceOpError> {
    let (st, _) = super::state(store, account).await?;
    let (plan, _) = terms::effective(&st, now);
    Ok((plan, plan.limits()))
}

fn count_of(l: &Limits, field: &str) -> u64 {
    match field {
        "users" => l.users.into(),
        "teams" => l.teams.into(),
        "agents" => l.agents.into(),
        "groups" => l.groups.into(),
        "storage_bytes" => l.storage_bytes,
        "panels_per_group" => l.panels_per_group.into(),
        _ => 0,
    }
}

/// The cheapest plan above `plan` that allows more than `count`.
fn lifting_plan(plan: Plan, field: &str, count: u64) -> Option<Plan> {
    Plan::ALL.into_iter().filter(|p| *p > plan).find(|p| count_of(&p.limits(), field) > count)
}

/// Refuses one more of `field` (users, teams, agents, groups) when `count`
/// reached the plan's limit.
pub fn check_count(
    account: &str,
    plan: Plan,
    limits: &Limits,
    field: &'static str,
    count: u64,
) -> Result<(), PlanLimit> {
    let max = count_of(limits, field);
    if count < max {
        return Ok(());
    }
    let lift = lift_text(plan, field, count, "cloud-limit-count");
    let text = Text::new("cloud-limit-count")
        .arg("plan", plan.name())
        .arg("max", max.to_string())
        .text_arg("noun", noun(field))
        .arg("account", account)
        .arg("count", count.to_string())
        .text_arg("lift", lift);
    Err(PlanLimit::new(field, plan, max, count, text))
}

/// What lifts a limit at `count`: the plan that allows more (`{kind}-lift`,
/// naming it and its maximum), or removing first (`{kind}-remove`).
fn lift_text(plan: Plan, field: &str, count: u64, kind: &str) -> Text {
    match lifting_plan(plan, field, count) {
        Some(p) => Text::new(&format!("{kind}-lift"))
            .arg("plan", p.name())
            .arg("max", count_of(&p.limits(), field).to_string()),
        None => Text::new(&format!("{kind}-remove")),
    }
}

/// Refuses growing the dashboard panels that show `agent`'s channels from
/// `before` to `after` past the plan's `panels_per_group` (as the desktop
/// counts them per agent; what exists stays allowed).
pub fn check_panels(
    account: &str,
    plan: Plan,
    limits: &Limits,
    agent: &str,
    before: u64,
    after: u64,
) -> Result<(), PlanLimit> {
    let field = "panels_per_group";
    let max = count_of(limits, field);
    if after <= max || after <= before {
        return Ok(());
    }
    let lift = lift_text(plan, field, after - 1, "cloud-limit-panels");
    let text = Text::new("cloud-limit-panels")
        .arg("plan", plan.name())
        .arg("max", max.to_string())
        .arg("agent", agent)
        .arg("account", account)
        .arg("before", before.to_string())
        .arg("after", after.to_string())
        .text_arg("lift", lift);
    Err(PlanLimit::new(field, plan, max, before, text))
}

/// Refuses a Pro feature (`web_api`, `ip_restriction`, `csv_import`) on other plans.
pub fn check_feature(account: &str, plan: Plan, limits: &Limits, field: &'static str) -> Result<(), PlanLimit> {
    let on = match field {
        "web_api" => limits.web_api,
        "ip_restriction" => limits.ip_restriction,
        "csv_import" => limits.csv_import,
        _ => false,
    };
    if on {
        return Ok(());
    }
    let what = match field {
        "web_api" => "cloud-limit-feature-web-api",
        "ip_restriction" => "cloud-limit-feature-ip-restriction",
        _ => "cloud-limit-feature-csv-import",
    };
    let text = Text::new("cloud-limit-feature")
        .text_arg("what", Text::new(what))
        .arg("account", account)
        .arg("plan", plan.name());
    Err(PlanLimit::new(field, plan, 0, 0, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_plan_limit_count_and_the_lift() {
        let free = Plan::Free.limits();
        assert!(check_count("acme", Plan::Free, &free, "users", 2).is_ok());
        let e = check_count("acme", Plan::Free, &free, "users", 3).unwrap_err();
        assert_eq!((e.limit, e.plan, e.max, e.count), ("users", Plan::Free, 3, 3));
        assert!(e.message.contains("the Free plan allows 3 users and account acme has 3"), "{}", e.message);
        assert!(e.message.contains("apply a Standard licence card (it allows 10)"), "{}", e.message);
        let pro = Plan::Pro.limits();
        let e = check_count("acme", Plan::Pro, &pro, "groups", 100).unwrap_err();
        assert!(e.message.ends_with("remove one first"), "{}", e.message);
        let e = check_feature("acme", Plan::Standard, &Plan::Standard.limits(), "web_api").unwrap_err();
        assert!(e.message.contains("Web API tokens need the Pro plan; account acme is on Standard"));
        assert!(check_feature("acme", Plan::Pro, &pro, "csv_import").is_ok());
    }
}
