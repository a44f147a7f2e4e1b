//! Pure threshold conditions with a hysteresis deadband, and the AND/OR of
//! two of them. The raise test (alarm not active) uses the threshold; the
//! hold test (alarm active) keeps the condition met until the value is back
//! inside by at least the deadband, so values inside the deadband never flap.

use super::rule::{Combine, Op};
use crate::model::Value;

/// One comparison, operands resolved: `a` = value or low, `b` = high.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cond {
    pub op: Op,
    pub a: f64,
    pub b: f64,
    pub deadband: f64,
}

impl Cond {
    /// Is the condition met? `active` selects the hold test. NaN never meets.
    #[inline]
    pub fn test(&self, v: f64, active: bool) -> bool {
        let d = if active { self.deadband } else { 0.0 };
        let (a, b) = (self.a, self.b);
        match self.op {
            Op::Gt => v > a - d,
            Op::Ge => v >= a - d,
            Op::Lt => v < a + d,
            Op::Le => v <= a + d,
            Op::OutsideIncl => v <= a + d || v >= b - d,
            Op::OutsideExcl => v < a + d || v > b - d,
        }
    }

    /// A channel's latest value: unknown (none yet, or a special) counts as not met.
    #[inline]
    pub fn test_value(&self, v: Option<Value>, active: bool) -> bool {
        match v {
            Some(Value::Number(x)) => self.test(x, active),
            _ => false,
        }
    }
}

#[inline]
pub fn combine(c: Combine, a: bool, b: bool) -> bool {
    match c {
        Combine::And => a && b,
        Combine::Or => a || b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpecialKind;

    fn c(op: Op, a: f64, b: f64, deadband: f64) -> Cond {
        Cond { op, a, b, deadband }
    }

    #[test]
    fn comparisons_at_the_threshold() {
        assert!(!c(Op::Gt, 80.0, 0.0, 0.0).test(80.0, false));
        assert!(c(Op::Ge, 80.0, 0.0, 0.0).test(80.0, false));
        assert!(!c(Op::Lt, 5.0, 0.0, 0.0).test(5.0, false));
        assert!(c(Op::Le, 5.0, 0.0, 0.0).test(5.0, false));
        let incl = c(Op::OutsideIncl, 10.0, 90.0, 0.0);
        let excl = c(Op::OutsideExcl, 10.0, 90.0, 0.0);
        for (v, i, e) in [(10.0, true, false), (90.0, true, false), (9.9, true, true), (50.0, false, false)] {
            assert_eq!(incl.test(v, false), i, "incl {v}");
            assert_eq!(excl.test(v, false), e, "excl {v}");
        }
        assert!(!c(Op::Gt, 0.0, 0.0, 0.0).test(f64::NAN, false));
        assert!(!c(Op::OutsideExcl, 0.0, 1.0, 0.0).test(f64::NAN, true));
    }

    #[test]
    fn deadband_holds_until_back_inside_by_it() {
        let gt = c(Op::Gt, 80.0, 0.0, 2.0);
        assert!(!gt.test(79.0, false));
        assert!(gt.test(79.0, true));
        assert!(gt.test(78.01, true));
        assert!(!gt.test(78.0, true));
        let lt = c(Op::Lt, 5.0, 0.0, 1.0);
        assert!(lt.test(5.5, true));
        assert!(!lt.test(6.0, true));
        let range = c(Op::OutsideExcl, 10.0, 90.0, 1.0);
        assert!(range.test(10.5, true) && range.test(89.5, true));
        assert!(!range.test(11.0, true) && !range.test(89.0, true));
    }

    #[test]
    fn specials_and_missing_values_are_not_met() {
        let gt = c(Op::Gt, 0.0, 0.0, 0.0);
        assert!(gt.test_value(Some(Value::Number(1.0)), false));
        assert!(!gt.test_value(Some(Value::Special(SpecialKind::OverRange)), false));
        assert!(!gt.test_value(None, true));
        assert!(combine(Combine::Or, false, true) && !combine(Combine::And, false, true));
    }
}
