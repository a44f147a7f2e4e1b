//! The account limits of SPEC 7, checked where a thing is created. A
//! refusal names the plan, the limit, the count and how to lift it, and is
//! checked before anything is written, so it changes nothing.
//! (Counting and inserting are two steps: two creations racing at the
//! limit may both pass; the next one is refused.)

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
    pub message: String,
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

/// Refuses one more of `noun` (plural, e.g. "users") when `count` reached the plan's limit.
pub fn check_count(
    account: &str,
    plan: Plan,
    limits: &Limits,
    field: &'static str,
    noun: &str,
    count: u64,
) -> Result<(), PlanLimit> {
    let max = count_of(limits, field);
    if count < max {
        return Ok(());
    }
    let lift = match lifting_plan(plan, field, count) {
        Some(p) => format!(
            "apply a {} licence card (it allows {}) or remove one first",
            p.name(),
            count_of(&p.limits(), field)
        ),
        None => "remove one first".to_string(),
    };
    Err(PlanLimit {
        limit: field,
        plan,
        max,
        count,
        message: format!(
            "the {} plan allows {max} {noun} and account {account} has {count}; nothing was created: {lift}",
            plan.name()
        ),
    })
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
    let lift = match lifting_plan(plan, field, after - 1) {
        Some(p) => {
            format!("remove some, or apply a {} licence card (it allows {})", p.name(), count_of(&p.limits(), field))
        }
        None => "remove some first".to_string(),
    };
    Err(PlanLimit {
        limit: field,
        plan,
        max,
        count: before,
        message: format!(
            "the {} plan allows {max} dashboard panels per agent; agent {agent} of account {account} is on {before} \
             and the change asks for {after}; nothing was saved: {lift}",
            plan.name()
        ),
    })
}

/// Refuses a Pro feature (`web_api`, `ip_restriction`, `csv_import`) on other plans.
pub fn check_feature(
    account: &str,
    plan: Plan,
    limits: &Limits,
    field: &'static str,
    what: &str,
) -> Result<(), PlanLimit> {
    let on = match field {
        "web_api" => limits.web_api,
        "ip_restriction" => limits.ip_restriction,
        "csv_import" => limits.csv_import,
        _ => false,
    };
    if on {
        return Ok(());
    }
    Err(PlanLimit {
        limit: field,
        plan,
        max: 0,
        count: 0,
        message: format!(
            "{what} need the Pro plan; account {account} is on {}: apply a Pro licence card, or change the plan to Pro, to use it",
            plan.name()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_plan_limit_count_and_the_lift() {
        let free = Plan::Free.limits();
        assert!(check_count("acme", Plan::Free, &free, "users", "users", 2).is_ok());
        let e = check_count("acme", Plan::Free, &free, "users", "users", 3).unwrap_err();
        assert_eq!((e.limit, e.plan, e.max, e.count), ("users", Plan::Free, 3, 3));
        assert!(e.message.contains("the Free plan allows 3 users and account acme has 3"), "{}", e.message);
        assert!(e.message.contains("apply a Standard licence card (it allows 10)"), "{}", e.message);
        let pro = Plan::Pro.limits();
        let e = check_count("acme", Plan::Pro, &pro, "groups", "measurement groups", 100).unwrap_err();
        assert!(e.message.ends_with("remove one first"), "{}", e.message);
        let e =
            check_feature("acme", Plan::Standard, &Plan::Standard.limits(), "web_api", "Web API tokens").unwrap_err();
        assert!(e.message.contains("Web API tokens need the Pro plan; account acme is on Standard"));
        assert!(check_feature("acme", Plan::Pro, &pro, "csv_import", "CSV imports").is_ok());
    }
}
