//! Property tests: the parser never panics, and printed expression trees
//! parse back to code that evaluates exactly like the tree.

use std::collections::HashMap;

use proptest::prelude::*;

use super::eval::eval;
use super::parse::{MAX_CHARS, parse};
use crate::model::{SpecialKind, Value};

const NAMES: [&str; 5] = ["A", "B", "C", "x1", "_t"];

#[derive(Clone, Debug)]
enum Tree {
    Num(f64),
    Var(usize),
    Neg(Box<Tree>),
    Sq(Box<Tree>),
    Sqr(Box<Tree>),
    Bin(char, Box<Tree>, Box<Tree>),
}

impl Tree {
    /// The evaluator's semantics, written independently: `None` where any
    /// step fails (division by zero, root of a negative, non-finite).
    fn eval(&self, vars: &[f64]) -> Option<f64> {
        let v = match self {
            Tree::Num(c) => *c,
            Tree::Var(i) => vars[*i],
            Tree::Neg(a) => -a.eval(vars)?,
            Tree::Sq(a) => {
                let a = a.eval(vars)?;
                a * a
            }
            Tree::Sqr(a) => {
                let a = a.eval(vars)?;
                if a < 0.0 {
                    return None;
                }
                a.sqrt()
            }
            Tree::Bin(op, a, b) => {
                let (a, b) = (a.eval(vars)?, b.eval(vars)?);
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    _ if b == 0.0 => return None,
                    _ => a / b,
                }
            }
        };
        v.is_finite().then_some(v)
    }

    /// With every operation in parentheses.
    fn full(&self) -> String {
        match self {
            Tree::Num(c) => format!("{c:?}"),
            Tree::Var(i) => NAMES[*i].to_string(),
            Tree::Neg(a) => format!("(-{})", a.full()),
            Tree::Sq(a) => format!("SQ({})", a.full()),
            Tree::Sqr(a) => format!("sqr({})", a.full()),
            Tree::Bin(op, a, b) => format!("({} {op} {})", a.full(), b.full()),
        }
    }

    fn prec(&self) -> u8 {
        match self {
            Tree::Bin('+' | '-', ..) => 1,
            Tree::Bin(..) => 2,
            Tree::Neg(_) => 3,
            _ => 4,
        }
    }

    /// With only the parentheses precedence and left associativity need.
    fn minimal(&self) -> String {
        let wrap = |t: &Tree, need: u8| if t.prec() < need { format!("({})", t.minimal()) } else { t.minimal() };
        match self {
            Tree::Neg(a) => format!("-{}", wrap(a, 3)),
            Tree::Bin(op, a, b) => {
                let p = self.prec();
                format!("{}{op}{}", wrap(a, p), wrap(b, p + 1))
            }
            Tree::Sq(a) => format!("SQ({})", a.minimal()),
            Tree::Sqr(a) => format!("SQR({})", a.minimal()),
            _ => self.full(),
        }
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        prop_oneof![Just(0.0), Just(1.0), Just(2.5), 0.0..1e6f64, 0.0..1e-6f64, Just(1e300)].prop_map(Tree::Num),
        (0..NAMES.len()).prop_map(Tree::Var),
    ];
    leaf.prop_recursive(8, 64, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| Tree::Neg(Box::new(a))),
            inner.clone().prop_map(|a| Tree::Sq(Box::new(a))),
            inner.clone().prop_map(|a| Tree::Sqr(Box::new(a))),
            (prop::sample::select(vec!['+', '-', '*', '/']), inner.clone(), inner).prop_map(|(op, a, b)| Tree::Bin(
                op,
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

fn input() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(-1.0), -1e3..1e3f64, any::<f64>().prop_filter("finite", |v| v.is_finite())]
}

/// Evaluates source text with inputs given by name.
fn eval_src(src: &str, vars: &[f64]) -> Value {
    let expr = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    let by_name: HashMap<&str, f64> = NAMES.iter().copied().zip(vars.iter().copied()).collect();
    let inputs: Vec<Value> = expr.vars().iter().map(|v| Value::Number(by_name[v.name.as_str()])).collect();
    eval(&expr, &inputs)
}

fn same(got: Value, want: Option<f64>) -> bool {
    match (got, want) {
        (Value::Number(g), Some(w)) => g == w,
        (Value::Special(SpecialKind::Invalid), None) => true,
        _ => false,
    }
}

const TOKENS: &[&str] = &[
    "A", "B", "x1", "1", "2.5", ".5", "1e3", "1e", "1.2.", "SQ", "SQR", "sq", "ABS", "(", ")", "+", "-", "*", "/", " ",
    "\n", "#", "^", ",", "µ", "9e999", "2A", "_",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_strings_never_panic(src in any::<String>()) {
        if let Err(e) = parse(&src) {
            prop_assert!(e.position >= 1 && e.position <= src.chars().count().min(MAX_CHARS) + 1, "{e}");
        }
    }

    #[test]
    fn expression_like_strings_never_panic(src in "[ A-Za-z0-9_.eE+*/()\\-]{0,80}") {
        if let Err(e) = parse(&src) {
            prop_assert!(e.position >= 1 && e.position <= src.chars().count() + 1, "{e}");
        }
    }

    #[test]
    fn random_token_sequences_never_panic_nor_give_nan(
        toks in prop::collection::vec(prop::sample::select(TOKENS), 0..60),
        vars in prop::collection::vec(input(), NAMES.len()),
    ) {
        let src: String = toks.concat();
        match parse(&src) {
            Ok(expr) => {
                let inputs: Vec<Value> = (0..expr.vars().len()).map(|i| Value::Number(vars[i % vars.len()])).collect();
                if let Value::Number(v) = eval(&expr, &inputs) {
                    prop_assert!(v.is_finite());
                }
            }
            Err(e) => prop_assert!(e.position >= 1 && e.position <= src.chars().count() + 1, "{src:?}: {e}"),
        }
    }

    #[test]
    fn printed_trees_evaluate_like_the_tree(t in tree(), vars in prop::collection::vec(input(), NAMES.len())) {
        let want = t.eval(&vars);
        let full = t.full();
        prop_assert!(same(eval_src(&full, &vars), want), "{full} with {vars:?}: want {want:?}");
        let minimal = t.minimal();
        prop_assert!(same(eval_src(&minimal, &vars), want), "{minimal} with {vars:?}: want {want:?}");
    }
}
