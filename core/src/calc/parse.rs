//! The expression language of calculation channels: `+ - * /`, unary minus,
//! `SQ(x)` (square), `SQR(x)` (square root), parentheses, constants (`2`,
//! `0.5`, `.5`, `1e3`, `2.5E-3`) and input variables (`[A-Za-z_][A-Za-z0-9_]*`).
//!
//! A hand-written recursive-descent parser emits postfix code, so evaluation
//! needs no recursion at all. The parser recurses once per nesting level
//! (parenthesis, function call, unary minus) and refuses more than
//! [`MAX_DEPTH`] levels, so hostile input cannot exhaust the stack.
//!
//! Function names are matched case-insensitively (`sqr(x)` works); every
//! spelling of `SQ` and `SQR` is therefore reserved and cannot be a variable.
//! Variables are case-sensitive. Positions are 1-based character columns,
//! counting a line break as one character.

use std::collections::BTreeSet;

use meterdeck_wire::i18n::Text;

/// Nesting levels (parentheses, function calls, unary minus) accepted.
pub const MAX_DEPTH: usize = 64;
/// Longest expression accepted, in characters.
pub const MAX_CHARS: usize = 1000;

/// Why an expression was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {position}: {message}")]
pub struct ParseError {
    /// 1-based character column; one past the end for "ended too early".
    pub position: usize,
    /// `text` in English.
    pub message: String,
    /// The message (without the column) in any language (locales/*/forms.ftl).
    pub text: Text,
}

impl ParseError {
    fn new(position: usize, text: Text) -> ParseError {
        ParseError { position, message: text.to_string(), text }
    }

    /// The whole refusal, `column N: ...`, in any language (English is the Display).
    pub fn text_with_column(&self) -> Text {
        Text::new("form-expr-column").arg("column", self.position.to_string()).text_arg("message", self.text.clone())
    }
}

/// One step of postfix code; operands are popped from a value stack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Const(f64),
    /// Index into [`Expr::vars`].
    Var(usize),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    Sq,
    Sqr,
}

/// A variable of an expression and where it is first used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    /// 1-based column of its first use.
    pub column: usize,
}

/// A parsed expression. Only [`parse`] builds one, so its code is well formed.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    ops: Vec<Op>,
    vars: Vec<Variable>,
}

impl Expr {
    /// The postfix code.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Variables in order of first use; `Op::Var(i)` reads input `i`.
    pub fn vars(&self) -> &[Variable] {
        &self.vars
    }

    /// The set of variable names used.
    pub fn variable_names(&self) -> BTreeSet<&str> {
        self.vars.iter().map(|v| v.name.as_str()).collect()
    }
}

/// `SQ` or `SQR` in any letter case.
pub fn is_function_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("SQ") || name.eq_ignore_ascii_case("SQR")
}

/// A name usable as a variable: `[A-Za-z_][A-Za-z0-9_]*` and not a function.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_function_name(name)
}

/// Parses `src` into postfix code and its set of variables.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    if chars.len() > MAX_CHARS {
        return Err(ParseError::new(MAX_CHARS + 1, Text::new("form-expr-too-long").arg("max", MAX_CHARS.to_string())));
    }
    let toks = lex(&chars);
    if toks.first().is_some_and(|t| t.kind == Kind::End) {
        return Err(ParseError::new(1, Text::new("form-expr-empty")));
    }
    let mut p = Parser { chars: &chars, toks, i: 0, depth: 0, ops: Vec::new(), vars: Vec::new() };
    p.expr()?;
    let t = p.peek();
    match &t.kind {
        Kind::End => Ok(Expr { ops: p.ops, vars: p.vars }),
        Kind::Bad(e) => Err(e.clone()),
        Kind::RParen => Err(p.error(t.start, Text::new("form-expr-unmatched-paren"))),
        _ => {
            let found = p.text(t.start, t.end);
            Err(p.error(
                t.start,
                Text::new("form-expr-expected-operator").arg("before", p.before(0, t.start)).arg("found", found),
            ))
        }
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Num(f64),
    Ident,
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
    End,
    /// A lexing error; the parser reports it only if it gets this far.
    Bad(ParseError),
}

/// A token spanning `chars[start..end]` (0-based).
#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Lexes until the end or the first bad character; the last token is `End` or `Bad`.
fn lex(chars: &[char]) -> Vec<Token> {
    let mut toks = Vec::new();
    let mut i = 0;
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let Some(&c) = chars.get(i) else {
            toks.push(Token { kind: Kind::End, start: i, end: i });
            return toks;
        };
        let start = i;
        let single = match c {
            '+' => Some(Kind::Plus),
            '-' => Some(Kind::Minus),
            '*' => Some(Kind::Star),
            '/' => Some(Kind::Slash),
            '(' => Some(Kind::LParen),
            ')' => Some(Kind::RParen),
            _ => None,
        };
        let kind = if let Some(k) = single {
            i += 1;
            k
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            match number(chars, &mut i) {
                Ok(v) => Kind::Num(v),
                Err(e) => Kind::Bad(e),
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            while chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                i += 1;
            }
            Kind::Ident
        } else {
            let key = match c {
                '^' => "form-expr-unexpected-caret",
                ',' => "form-expr-unexpected-comma",
                _ => "form-expr-unexpected-char",
            };
            Kind::Bad(ParseError::new(start + 1, Text::new(key).arg("char", c.to_string())))
        };
        let bad = matches!(kind, Kind::Bad(_));
        toks.push(Token { kind, start, end: i });
        if bad {
            return toks;
        }
    }
}

/// Reads `digits [. digits] [e [+-] digits]` at `*i` and checks what follows.
fn number(chars: &[char], i: &mut usize) -> Result<f64, ParseError> {
    let start = *i;
    let digits = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_ascii_digit()) {
            *i += 1;
        }
    };
    digits(i);
    if chars.get(*i) == Some(&'.') {
        *i += 1;
        digits(i);
    }
    let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    let err = |text: Text| Err(ParseError::new(start + 1, text));
    if chars.get(*i).is_some_and(|c| *c == 'e' || *c == 'E') {
        let mut j = *i + 1;
        if chars.get(j).is_some_and(|c| *c == '+' || *c == '-') {
            j += 1;
        }
        if !chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
            return err(Text::new("form-expr-exponent").arg("number", text(start, j)));
        }
        *i = j;
        digits(i);
    }
    let num = text(start, *i);
    match chars.get(*i) {
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let mut j = *i;
            while chars.get(j).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                j += 1;
            }
            let name = text(*i, j);
            return err(Text::new("form-expr-number-then-name").arg("number", num).arg("name", name));
        }
        Some('.') => {
            let mut j = *i;
            while chars.get(j).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                j += 1;
            }
            return err(Text::new("form-expr-malformed-number").arg("number", text(start, j)));
        }
        _ => {}
    }
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => err(Text::new("form-expr-number-too-large").arg("number", num)),
        Err(_) => err(Text::new("form-expr-malformed-number").arg("number", num)),
    }
}

// ---------------------------------------------------------------- parser

struct Parser<'a> {
    chars: &'a [char],
    toks: Vec<Token>,
    i: usize,
    depth: usize,
    ops: Vec<Op>,
    vars: Vec<Variable>,
}

impl Parser<'_> {
    fn peek(&self) -> Token {
        // The lexer always ends with `End` or `Bad`, and we never move past it.
        self.toks[self.i.min(self.toks.len() - 1)].clone()
    }

    fn advance(&mut self) {
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        let s: String = self.chars[from..to].iter().collect();
        shorten_tail(s.trim())
    }

    /// The source between `from` and `to`, for "after `...`" in messages.
    fn before(&self, from: usize, to: usize) -> String {
        self.text(from, to)
    }

    fn error(&self, at: usize, text: Text) -> ParseError {
        ParseError::new(at + 1, text)
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(at, Text::new("form-expr-too-deep").arg("max", MAX_DEPTH.to_string())));
        }
        Ok(())
    }

    // expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<(), ParseError> {
        self.term()?;
        loop {
            let op = match self.peek().kind {
                Kind::Plus => Op::Add,
                Kind::Minus => Op::Sub,
                _ => return Ok(()),
            };
            self.advance();
            self.term()?;
            self.ops.push(op);
        }
    }

    // term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<(), ParseError> {
        self.unary()?;
        loop {
            let op = match self.peek().kind {
                Kind::Star => Op::Mul,
                Kind::Slash => Op::Div,
                _ => return Ok(()),
            };
            self.advance();
            self.unary()?;
            self.ops.push(op);
        }
    }

    // unary := '-' unary | primary
    fn unary(&mut self) -> Result<(), ParseError> {
        let t = self.peek();
        if t.kind != Kind::Minus {
            return self.primary();
        }
        self.enter(t.start)?;
        self.advance();
        self.unary()?;
        self.ops.push(Op::Neg);
        self.depth -= 1;
        Ok(())
    }

    // primary := NUMBER | VARIABLE | FUNC '(' expr ')' | '(' expr ')'
    fn primary(&mut self) -> Result<(), ParseError> {
        let t = self.peek();
        match &t.kind {
            Kind::Num(v) => {
                self.ops.push(Op::Const(*v));
                self.advance();
                Ok(())
            }
            Kind::Ident => {
                let name: String = self.chars[t.start..t.end].iter().collect();
                self.advance();
                let next = self.peek();
                if is_function_name(&name) {
                    if next.kind != Kind::LParen {
                        return Err(self.error(t.start, Text::new("form-expr-function-as-variable").arg("name", name)));
                    }
                    self.enter(next.start)?;
                    self.advance();
                    self.expr()?;
                    self.close(t.start)?;
                    self.depth -= 1;
                    self.ops.push(if name.len() == 2 { Op::Sq } else { Op::Sqr });
                    return Ok(());
                }
                if next.kind == Kind::LParen {
                    return Err(self.error(t.start, Text::new("form-expr-unknown-function").arg("name", name)));
                }
                let index = match self.vars.iter().position(|v| v.name == name) {
                    Some(i) => i,
                    None => {
                        self.vars.push(Variable { name, column: t.start + 1 });
                        self.vars.len() - 1
                    }
                };
                self.ops.push(Op::Var(index));
                Ok(())
            }
            Kind::LParen => {
                self.enter(t.start)?;
                self.advance();
                self.expr()?;
                self.close(t.start)?;
                self.depth -= 1;
                Ok(())
            }
            Kind::Bad(e) => Err(e.clone()),
            _ => {
                let before = self.before(0, t.start);
                let key = match (t.kind == Kind::End, before.is_empty()) {
                    (true, true) => "form-expr-expected-operand-end",
                    (false, true) => "form-expr-expected-operand",
                    (true, false) => "form-expr-expected-operand-after-end",
                    (false, false) => "form-expr-expected-operand-after",
                };
                let text = Text::new(key).arg("before", before).arg("found", self.text(t.start, t.end));
                Err(self.error(t.start, text))
            }
        }
    }

    /// Expects the `)` closing what was opened at `open` (0-based).
    fn close(&mut self, open: usize) -> Result<(), ParseError> {
        let t = self.peek();
        match &t.kind {
            Kind::RParen => {
                self.advance();
                Ok(())
            }
            Kind::Bad(e) => Err(e.clone()),
            Kind::End => Err(self
                .error(t.start, Text::new("form-expr-expected-close-end").arg("before", self.before(open, t.start)))),
            _ => {
                let found = self.text(t.start, t.end);
                let text =
                    Text::new("form-expr-expected-close").arg("before", self.before(open, t.start)).arg("found", found);
                Err(self.error(t.start, text))
            }
        }
    }
}

/// Keeps messages short: only the last 30 characters of a long snippet.
fn shorten_tail(s: &str) -> String {
    const KEEP: usize = 30;
    let n = s.chars().count();
    if n <= KEEP { s.to_string() } else { format!("…{}", s.chars().skip(n - KEEP).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(src: &str) -> Vec<Op> {
        parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}")).ops
    }

    fn err(src: &str) -> ParseError {
        match parse(src) {
            Ok(e) => panic!("{src:?} should not parse, got {e:?}"),
            Err(e) => e,
        }
    }

    use Op::*;

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(ops("A + B * C"), [Var(0), Var(1), Var(2), Mul, Add]);
        assert_eq!(ops("A * B + C"), [Var(0), Var(1), Mul, Var(2), Add]);
        assert_eq!(ops("A - B - C"), [Var(0), Var(1), Sub, Var(2), Sub]);
        assert_eq!(ops("A / B / C"), [Var(0), Var(1), Div, Var(2), Div]);
        assert_eq!(ops("(A + B) * C"), [Var(0), Var(1), Add, Var(2), Mul]);
        assert_eq!(ops("A - (B - C)"), [Var(0), Var(1), Var(2), Sub, Sub]);
    }

    #[test]
    fn unary_minus() {
        assert_eq!(ops("-A"), [Var(0), Neg]);
        assert_eq!(ops("-A * B"), [Var(0), Neg, Var(1), Mul]);
        assert_eq!(ops("A * -B"), [Var(0), Var(1), Neg, Mul]);
        assert_eq!(ops("A - -B"), [Var(0), Var(1), Neg, Sub]);
        assert_eq!(ops("--A"), [Var(0), Neg, Neg]);
        assert_eq!(ops("-(A + B)"), [Var(0), Var(1), Add, Neg]);
    }

    #[test]
    fn functions() {
        assert_eq!(ops("SQ(A)"), [Var(0), Sq]);
        assert_eq!(ops("SQR(A + 1)"), [Var(0), Const(1.0), Add, Sqr]);
        assert_eq!(ops("sqr(sq(A))"), [Var(0), Sq, Sqr]);
        assert_eq!(ops("SQ (A)"), [Var(0), Sq]);
        assert_eq!(ops("-SQ(A)"), [Var(0), Sq, Neg]);
    }

    #[test]
    fn constants() {
        assert_eq!(ops("2"), [Const(2.0)]);
        assert_eq!(ops("0.5"), [Const(0.5)]);
        assert_eq!(ops(".5"), [Const(0.5)]);
        assert_eq!(ops("5."), [Const(5.0)]);
        assert_eq!(ops("1e3"), [Const(1000.0)]);
        assert_eq!(ops("2.5E-3"), [Const(0.0025)]);
        assert_eq!(ops("1e+2"), [Const(100.0)]);
        assert_eq!(ops("1e-400"), [Const(0.0)]);
    }

    #[test]
    fn variables_are_collected_in_order_of_first_use() {
        let e = parse("(A + B) * 2 - SQR(C) + A + _x1").unwrap();
        let names: Vec<_> = e.vars().iter().map(|v| (v.name.as_str(), v.column)).collect();
        assert_eq!(names, [("A", 2), ("B", 6), ("C", 19), ("_x1", 28)]);
        assert_eq!(e.variable_names().into_iter().collect::<Vec<_>>(), ["A", "B", "C", "_x1"]);
        assert!(parse("a + A").unwrap().vars().len() == 2, "variables are case-sensitive");
        assert!(parse("1 + 2").unwrap().vars().is_empty());
    }

    #[test]
    fn whitespace_anywhere() {
        assert_eq!(ops(" \tA\n+\r\nB "), [Var(0), Var(1), Add]);
    }

    /// Every error, with its column and message.
    #[test]
    fn errors_have_columns() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "the expression is empty"),
            ("   ", 1, "the expression is empty"),
            ("(A + B", 7, "expected `)` after `(A + B`"),
            ("(A + B C", 8, "expected `)` after `(A + B`, found `C`"),
            ("SQR(A", 6, "expected `)` after `SQR(A`"),
            ("A + B)", 6, "unmatched `)`"),
            ("A B", 3, "expected an operator (+ - * /) after `A`, found `B`"),
            ("(A)(B)", 4, "expected an operator (+ - * /) after `(A)`, found `(`"),
            ("A +", 4, "expected a number, a variable, `(` or `-` after `A +`, found the end"),
            ("A + * B", 5, "expected a number, a variable, `(` or `-` after `A +`, found `*`"),
            ("* B", 1, "expected a number, a variable, `(` or `-`, found `*`"),
            ("()", 2, "expected a number, a variable, `(` or `-` after `(`, found `)`"),
            ("A + #", 5, "unexpected character `#`"),
            ("A ^ 2", 3, "unexpected character `^` (for a square write SQ(x))"),
            ("1,5 * A", 2, "unexpected character `,` (the decimal separator is `.`)"),
            ("A + µ", 5, "unexpected character `µ`"),
            ("2 * 1e", 5, "malformed number `1e`: the exponent needs digits, e.g. `1e3`"),
            ("1e+ * 2", 1, "malformed number `1e+`: the exponent needs digits, e.g. `1e3`"),
            ("1.2.3", 1, "malformed number `1.2.3`"),
            ("A + 2B", 5, "`2B` is not a number (to multiply write `2 * B`)"),
            ("1e999", 1, "the number `1e999` is too large"),
            ("SQ A", 1, "`SQ` is a function: write `SQ(x)` (it cannot be a variable name)"),
            ("sqr + 1", 1, "`sqr` is a function: write `sqr(x)` (it cannot be a variable name)"),
            ("ABS(A)", 1, "unknown function `ABS` (there are SQ(x) and SQR(x))"),
        ];
        for (src, col, msg) in cases {
            let e = err(src);
            assert_eq!((e.position, e.message.as_str()), (*col, *msg), "{src:?}");
            // The English file reads as the code did; German and Japanese are translated.
            assert_eq!(e.text.to_string(), e.message, "{src:?}");
            assert_eq!(e.text_with_column().to_string(), e.to_string(), "{src:?}");
            for lang in ["de", "ja"] {
                let t = e.text.render(lang);
                assert_ne!(t, e.message, "{src:?} in {lang}");
                assert!(!t.contains('{') && !t.contains('$'), "a placeholder left in {t:?}");
            }
        }
        assert_eq!(err("(A + B").to_string(), "column 7: expected `)` after `(A + B`");
        assert_eq!(err("(A + B").text_with_column().render("de"), "Spalte 7: `)` nach `(A + B` erwartet");
        assert_eq!(err("A + 2B").text.render("ja"), "`2B` は数値ではありません（掛け算は `2 * B` と書きます）");
    }

    #[test]
    fn first_error_wins_over_later_bad_characters() {
        assert_eq!(err("A + ) #").position, 5);
    }

    #[test]
    fn long_snippets_are_shortened() {
        let src = format!("({}", "A + ".repeat(20) + "B");
        let e = err(&src);
        assert!(e.message.starts_with("expected `)` after `…"), "{e}");
        assert!(e.message.chars().count() < 60, "{e}");
    }

    #[test]
    fn nesting_is_limited() {
        let ok = format!("{}A{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}A{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        let e = err(&deep);
        assert_eq!(e.position, MAX_DEPTH + 1);
        assert!(e.message.contains("nested too deeply"), "{e}");
        assert_eq!(err(&format!("{}A", "-".repeat(MAX_DEPTH + 1))).position, MAX_DEPTH + 1);
        assert_eq!(err(&format!("{}A", "SQ(".repeat(MAX_DEPTH + 1))).position, 3 * MAX_DEPTH + 3);
        // Sibling groups do not add up.
        assert!(parse(&[ok.as_str(); 5].join("+")).is_ok());
    }

    #[test]
    fn length_is_limited() {
        let e = err(&"1+".repeat(MAX_CHARS));
        assert_eq!(e.position, MAX_CHARS + 1);
        assert_eq!(e.message, format!("the expression is longer than {MAX_CHARS} characters"));
        let e = err(&"(".repeat(100_000));
        assert_eq!(e.position, MAX_CHARS + 1);
    }

    #[test]
    fn names() {
        assert!(is_variable_name("A") && is_variable_name("_t1") && is_variable_name("Power_2"));
        assert!(!is_variable_name("") && !is_variable_name("1A") && !is_variable_name("A-B"));
        assert!(!is_variable_name("SQ") && !is_variable_name("sqr") && !is_variable_name("Sq"));
        assert!(is_variable_name("SQRT") && is_variable_name("SQ1"));
    }
}
