//! Evaluation of a parsed expression over input [`Value`]s.
//!
//! The result is never a NaN or infinite number; instead:
//! - a special input makes the result special with that input's kind; with
//!   several special inputs, the one whose variable appears first (leftmost)
//!   in the expression wins, so the rule is easy to state and stable;
//! - a failure of the arithmetic itself (division by zero, `SQR` of a negative
//!   number, an overflow to infinity anywhere along the way) gives
//!   [`SpecialKind::Invalid`], "uncalculable value";
//! - a non-finite input number, or a missing input, also gives `Invalid`.
//!
//! A result of `-0` is returned as `0`, so operators never see "-0".

use super::parse::{Expr, Op};
use crate::model::{SpecialKind, Value};

/// Evaluates `expr` with `inputs[i]` as the value of `expr.vars()[i]`.
pub fn eval(expr: &Expr, inputs: &[Value]) -> Value {
    let invalid = Value::Special(SpecialKind::Invalid);
    let mut numbers = Vec::with_capacity(expr.vars().len());
    for i in 0..expr.vars().len() {
        match inputs.get(i) {
            Some(Value::Special(kind)) => return Value::Special(*kind),
            Some(Value::Number(v)) if v.is_finite() => numbers.push(*v),
            _ => return invalid,
        }
    }
    let mut stack: Vec<f64> = Vec::with_capacity(16);
    for op in expr.ops() {
        let v = match *op {
            Op::Const(c) => c,
            Op::Var(i) => match numbers.get(i) {
                Some(v) => *v,
                None => return invalid,
            },
            Op::Neg | Op::Sq | Op::Sqr => {
                let Some(a) = stack.pop() else { return invalid };
                match *op {
                    Op::Neg => -a,
                    Op::Sq => a * a,
                    _ if a < 0.0 => return invalid,
                    _ => a.sqrt(),
                }
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else { return invalid };
                match *op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    _ if b == 0.0 => return invalid,
                    _ => a / b,
                }
            }
        };
        if !v.is_finite() {
            return invalid;
        }
        stack.push(v);
    }
    match (stack.pop(), stack.is_empty()) {
        // `+ 0.0` turns -0 into 0.
        (Some(v), true) => Value::Number(v + 0.0),
        _ => invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::parse::parse;

    fn n(v: f64) -> Value {
        Value::Number(v)
    }
    fn s(k: SpecialKind) -> Value {
        Value::Special(k)
    }
    fn ev(src: &str, inputs: &[Value]) -> Value {
        eval(&parse(src).unwrap(), inputs)
    }

    #[test]
    fn arithmetic() {
        assert_eq!(ev("(A + B) * 2 - SQR(C)", &[n(3.0), n(4.0), n(9.0)]), n(11.0));
        assert_eq!(ev("A - B - C", &[n(10.0), n(3.0), n(2.0)]), n(5.0));
        assert_eq!(ev("A / B / C", &[n(24.0), n(4.0), n(3.0)]), n(2.0));
        assert_eq!(ev("-A * B + 1", &[n(2.0), n(3.0)]), n(-5.0));
        assert_eq!(ev("SQ(A) + SQ(-A)", &[n(3.0)]), n(18.0));
        assert_eq!(ev("1e3 * .5", &[]), n(500.0));
        assert_eq!(ev("A * 0 * -1", &[n(5.0)]), n(0.0));
        assert!(ev("-(A * 0)", &[n(5.0)]).as_number().unwrap().is_sign_positive());
    }

    #[test]
    fn special_inputs_pass_their_kind() {
        use SpecialKind::*;
        assert_eq!(ev("A + B", &[n(1.0), s(OverRange)]), s(OverRange));
        // The leftmost special input's kind wins.
        assert_eq!(ev("A + B", &[s(BurnOut), s(NoData)]), s(BurnOut));
        assert_eq!(ev("B * A", &[s(NoData), s(BurnOut)]), s(NoData), "vars are in order of first use: B, A");
        // Even where the arithmetic could not fail or would fail too.
        assert_eq!(ev("A * 0", &[s(UnderRange)]), s(UnderRange));
        assert_eq!(ev("1 / (A - A) + B", &[n(1.0), s(NoData)]), s(NoData));
    }

    #[test]
    fn arithmetic_failures_are_invalid() {
        let invalid = s(SpecialKind::Invalid);
        assert_eq!(ev("A / B", &[n(1.0), n(0.0)]), invalid);
        assert_eq!(ev("A / B", &[n(0.0), n(-0.0)]), invalid);
        assert_eq!(ev("1 / (A - A)", &[n(7.0)]), invalid);
        assert_eq!(ev("SQR(A)", &[n(-1.0)]), invalid);
        assert_eq!(ev("SQR(A)", &[n(-0.0)]), n(0.0));
        assert_eq!(ev("SQR(A - 1e-9)", &[n(0.0)]), invalid);
        assert_eq!(ev("A * 1e300 * 1e300", &[n(1.0)]), invalid);
        assert_eq!(ev("SQ(A)", &[n(1e200)]), invalid);
        assert_eq!(ev("A / 1e-300", &[n(1e300)]), invalid);
        // An overflow is invalid even if a later step would bring it back.
        assert_eq!(ev("1 / (A * 1e300)", &[n(1e300)]), invalid);
    }

    #[test]
    fn bad_inputs_are_invalid() {
        let invalid = s(SpecialKind::Invalid);
        assert_eq!(ev("A + 1", &[n(f64::NAN)]), invalid);
        assert_eq!(ev("A + 1", &[n(f64::INFINITY)]), invalid);
        assert_eq!(ev("A + B", &[n(1.0)]), invalid, "missing input");
        assert_eq!(ev("A", &[n(1.0), n(2.0)]), n(1.0), "extra inputs are ignored");
    }
}
