use super::*;
use crate::value::EventView;
use std::rc::Rc;

const KEY_ERROR: Fault = Fault::Error(ErrorKind::Key);
const TYPE_ERROR: Fault = Fault::Error(ErrorKind::Type);
const ZERO_DIVISION: Fault = Fault::Error(ErrorKind::ZeroDivision);
const OVERFLOW: Fault = Fault::Error(ErrorKind::Overflow);

/// Every `key`, `when`, `where`, `condition` and step `when`/`match` of the shipped
/// pack and scoring rules.
const PACK: &[&str] = &[
    r#"!has(event.channel) || event.channel != "pos""#,
    "agg.accounts >= 10",
    "agg.accounts >= 5",
    "agg.activity_days == 0 && entity.age_seconds >= 7776000.0 && (agg.largest > 1000.0 || agg.outflow > 3000.0)",
    "agg.fraud >= 3 && agg.rate >= 0.05",
    "agg.n > 10 || (agg.total > 5000.0 && agg.n >= 3)",
    "agg.n > 20",
    "agg.n > 30",
    "agg.n >= 10 && agg.recipients <= 3 && agg.total >= 1000.0",
    "agg.n >= 3",
    "agg.payees >= 10 && agg.total >= 5000.0",
    "agg.payers >= 5 && agg.inflow >= 5000.0 && agg.outflow >= 0.5 * agg.inflow",
    "distance_km(steps.here.lat, steps.here.lon, event.lat, event.lon) > 500.0 && distance_km(steps.here.lat, steps.here.lon, event.lat, event.lon)\n   > 900.0 * (event.ts - steps.here.ts) / 3600.0",
    "event.account_id",
    "event.amount < 10.0",
    "event.amount > 500.0",
    "event.amount >= 0.8 * steps.topup.amount && !(event.instrument_id != null && event.instrument_id == steps.topup.instrument_id)",
    r#"event.channel != "pos""#,
    "event.counterparty_id",
    "event.device_id",
    "event.instrument_id",
    "event.ip",
    r#"event.kind == "transaction" && event.type != "top_up" && event.type != "refund" && event.amount >= 20000.0"#,
    "event.lat != null && event.lon != null",
    r#"event.status != "failed""#,
    r#"event.status != "failed" && event.amount >= 1000.0 && agg.spike >= 10.0 && agg.spike_days >= 5"#,
    r#"event.status != "failed" && event.amount >= 9000.0 && event.amount < 10000.0"#,
    r#"event.status != "failed" && event.counterparty_id != null"#,
    r#"event.status != "failed" && event.type in ["payment", "transfer", "red_packet", "withdrawal"]"#,
    r#"event.type != "withdrawal""#,
    r#"event.type == "feedback" && event.label == "fraud""#,
    r#"event.type == "login""#,
    r#"event.type == "login_failed""#,
    r#"event.type == "password_change" || event.type == "device_bound""#,
    r#"event.type == "payment" && event.status != "failed""#,
    r#"event.type == "top_up" && event.status != "failed" && event.amount >= 1000.0"#,
    r#"event.type == "withdrawal""#,
    r#"event.type == "withdrawal" && event.status != "failed""#,
    r#"event.type == "withdrawal" && event.status != "failed" && event.amount > 500.0"#,
    r#"event.type == "withdrawal" ? event.account_id : event.counterparty_id"#,
    "profiles.counterparty.max_severity >= 70 || profiles.merchant.max_severity >= 70",
    "size(profiles.account.patterns) >= 2",
];

/// Sources of the fast path's subset.
const TRICKY: &[&str] = &[
    "event.a && event.b",
    "event.a || event.b",
    "!event.a",
    "!(!event.a)",
    "-(-event.a)",
    "!(event.a)",
    "event.a && event.b && event.c",
    "event.a || event.b || event.c",
    "event.a && (event.b || event.c)",
    "(event.a || event.b) && !event.c",
    "event.a && (event.b && event.c)",
    "event.a || (event.b || event.c)",
    "event.a ? event.b : event.c",
    "event.a ? event.b : event.c ? event.d : null",
    "(event.a ? event.b : event.c) == 1",
    "event.a > 1 && false",
    "event.a > 1 || true",
    "false && event.a / event.b > 1",
    "event.a / event.b > 1 || event.c",
    "event.c || event.a / event.b > 1",
    "true && 1 == 1",
    "1 == 1 && event.a",
    "event.a == event.b",
    "event.a != event.b",
    "event.a < event.b",
    "event.a <= event.b",
    "event.a > event.b",
    "event.a >= event.b",
    "event.a == null",
    "event == null",
    "agg != null && agg.n > 1",
    "event.a != null && event.a >= 5",
    "event.a < 1",
    "event.a > 1.5",
    "event.a == 1",
    "event.a == 1.0",
    "event.a == 'x'",
    "event.a == true",
    "event.a < 'b'",
    "event.a >= false",
    r#"event.a in ["x", "y", "withdrawal"]"#,
    "event.a in [1, 2.5, 'x', null, true]",
    "event.a in [1]",
    "event.a in [null]",
    "!(event.a in ['x'])",
    "event.a + event.b",
    "event.a - event.b",
    "event.a * event.b",
    "event.a / event.b",
    "event.a + event.b > 10.0",
    "-event.a",
    "-event.a < 0",
    "event.a * 2.0 > event.b",
    "0.8 * event.a <= event.b",
    "event.a + 1",
    "event.a - 1 == event.b",
    "event.a * 3 / 2",
    "event.a + '|' + event.b",
    "1e3 < event.a",
    "2.5E-1 == event.a",
    "event.a / 0",
    "event.a / 0.0",
    "has(event.a)",
    "!has(event.a) || event.a != 'pos'",
    "has(event.m.k)",
    "event.m.k == 'x'",
    "event.m.k > 1",
    "has(steps.first.a)",
    "steps.first.a == event.a",
    "event.a >= 0.8 * steps.first.b",
    "steps.first.a != null && steps.first.a == event.b",
    "agg.n > 10 || agg.total > 5000.0",
    "agg.n >= 3 && entity.age_seconds >= 7776000.0",
    "agg.x_days == 0 && (agg.a > 1000.0 || agg.b > 3000.0)",
    "entity.idle_seconds > 60.0 ? agg.n > 1 : agg.n > 5",
    "distance_km(event.a, event.b, event.c, event.d) > 500.0",
    "distance_km(steps.first.a, steps.first.b, event.c, event.d) > 900.0 * event.a / 3600.0",
    "size(event.a) > 1",
    "size(event.a)",
    "size(event.a) == size(event.b)",
    "size(event.a.b) >= 2",
    "event.a + '|' + event.b",
    "event.type == 'withdrawal' ? event.a : event.b",
    // more of the subset
    "event.a in [1,]",
    "has(foo.x)",
    "1 - -1",
];

/// CEL the fast path leaves to the interpreter.
const INTERPRETED: &[&str] = &[
    "event.a % 2 == 0",
    "event.a == \"x\\n\"",
    "event.a == r'x'",
    "event.a == b'x'",
    "event.a == 1u",
    "event.a == 0x10",
    "event.a == \"\"\"x\"\"\"",
    "event['a'] == 1",
    "event.a.startsWith('x')",
    "event.a in event.b",
    "event.a in []",
    "[1, 2] == event.a",
    "{'a': 1} == event.a",
    "1 < 2 < 3",
    "double(event.a) > 1.0",
    "event.a > 1 // a comment",
    "event.a == 007",
    "event.a.exists(x, x > 1)",
    "!!event.a",
    "--event.a",
    "event.a == 00.5",
    "event.a in [-1]",
    "event.a in [event.b]",
    "event.a == 1 == true",
    "has(1.x)",
    "size(1, 2)",
    "event.a[0]",
    "event.a()",
    "int(1)",
];

/// Not CEL.
const REFUSED: &[&str] = &[
    "event.a == 1.",
    "event.a == 1.5e",
    "event.a == 'x''y'",
    "event.a == 9223372036854775808",
    "has(event)",
    "!-event.a",
    "event.a = 1",
    "event.a & 1",
    "",
    "event.a ? 1",
    "as == 1",
    "1e400",
    "distance_km(1, 2, 3, 4,)",
    "event.a\u{a0}== 1",
    "event.a\u{2028}== 1",
    "event.a\u{1c}== 1",
];

fn event(fields: &[(&str, Value)]) -> Value {
    let mut view = EventView::default();
    for (name, value) in fields {
        let slot = event_slot(name).expect("an event field");
        view.slots[slot] = Some(value.clone());
    }
    Value::Event(Rc::new(view))
}

fn s(text: &str) -> Value {
    Value::str(text)
}

fn eval(source: &str, ctx: &Ctx) -> Result<Value, Fault> {
    Expr::compile(source)
        .unwrap_or_else(|e| panic!("{source:?}: {e}"))
        .evaluate(ctx)
}

fn test(source: &str, ctx: &Ctx) -> Result<bool, Fault> {
    Expr::compile(source)
        .unwrap_or_else(|e| panic!("{source:?}: {e}"))
        .test(ctx)
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k, a), (l, b))| k == l && same(a, b))
        }
        (Value::Event(x), Value::Event(y)) => {
            x.slots
                .iter()
                .zip(y.slots.iter())
                .all(|(a, b)| match (a, b) {
                    (None, None) => true,
                    (Some(a), Some(b)) => same(a, b),
                    _ => false,
                })
        }
        (Value::Int(_), _) | (Value::Float(_), _) | (_, Value::Int(_)) | (_, Value::Float(_)) => {
            false
        }
        _ => a == b,
    }
}

fn assert_value(source: &str, ctx: &Ctx, expected: Value) {
    let got = eval(source, ctx);
    assert!(
        matches!(&got, Ok(v) if same(v, &expected)),
        "{source:?}: {got:?} != {expected:?}"
    );
}

#[test]
fn cel_pack_expressions_compile() {
    for source in PACK {
        let expr = Expr::compile(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        assert_eq!(expr.source(), *source);
    }
}

#[test]
fn cel_tricky_expressions_compile() {
    for source in TRICKY {
        Expr::compile(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
    }
}

#[test]
fn cel_refused_sources() {
    for source in REFUSED {
        assert!(
            Expr::compile(source).is_err(),
            "{source:?} should be refused"
        );
    }
}

#[test]
fn cel_interpreted_sources() {
    for source in INTERPRETED {
        let expr = Expr::compile(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        assert!(!expr.is_fast(), "{source:?} is on the fast path");
    }
}

#[test]
fn cel_deep_nesting_is_refused() {
    // The interpreter's parser, unoptimised, needs a large stack for deep parentheses.
    crate::conformance::on_a_large_stack(|| {
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(Expr::compile(&deep).is_err());
        let fine = format!("{}1{}", "(".repeat(20), ")".repeat(20));
        assert!(Expr::compile(&fine).unwrap().is_fast());
        let nested = format!("{}1{}", "(".repeat(60), ")".repeat(60));
        assert!(!Expr::compile(&nested).unwrap().is_fast());
        // beyond the fast path's depth, balanced by the interpreter
        let chain = Expr::compile(&vec!["event.a"; 500].join(" && ")).unwrap();
        assert!(!chain.is_fast());
        let yes = Value::map(vec![("a", Value::Bool(true))]);
        assert_eq!(chain.test(&Ctx::new().with(Var::Event, &yes)), Ok(true));
        // a chain the interpreter could not evaluate without overflowing its stack
        assert!(Expr::compile(&vec!["1"; 5000].join(" + ")).is_err());
    });
}

#[test]
fn cel_field_path() {
    let cases = [
        ("event.account_id", Some("account_id")),
        ("  event.x_1\n", Some("x_1")),
        ("event . a", None),
        ("event.a.b", None),
        ("event.a == 1", None),
        ("agg.n", None),
    ];
    for (source, expected) in cases {
        assert_eq!(
            Expr::compile(source).unwrap().field_path(),
            expected,
            "{source:?}"
        );
    }
}

#[test]
fn cel_variables() {
    let expr = Expr::compile("agg.n > 1 && event.a == steps.x.a || foo").unwrap();
    assert_eq!(expr.variables(), &[Var::Agg, Var::Event, Var::Steps]);
    assert!(expr.reads_unknown_variables());
    assert_eq!(Var::from_name("spent_today"), Some(Var::SpentToday));
    assert!(Var::ALL
        .iter()
        .enumerate()
        .all(|(index, var)| *var as usize == index));
}

#[test]
fn cel_pack_results() {
    let withdrawal = event(&[
        ("type", s("withdrawal")),
        ("status", s("ok")),
        ("amount", Value::Float(600.0)),
        ("account_id", s("acc-1")),
        ("counterparty_id", Value::Null),
        ("kind", s("transaction")),
        ("lat", Value::Float(31.2)),
        ("lon", Value::Float(121.5)),
        ("ts", Value::Float(1000.0)),
    ]);
    let here = event(&[
        ("lat", Value::Float(1.35)),
        ("lon", Value::Float(103.8198)),
        ("ts", Value::Float(0.0)),
    ]);
    let steps = Value::map(vec![
        ("here", here),
        ("topup", event(&[("amount", Value::Float(700.0))])),
    ]);
    let agg = Value::map(vec![("n", Value::Int(12)), ("total", Value::Float(10.0))]);
    let ctx = Ctx::new()
        .with(Var::Event, &withdrawal)
        .with(Var::Steps, &steps)
        .with(Var::Agg, &agg);
    let yes = |source: &str| assert_eq!(test(source, &ctx), Ok(true), "{source:?}");
    let no = |source: &str| assert_eq!(test(source, &ctx), Ok(false), "{source:?}");
    yes(r#"event.type == "withdrawal" && event.status != "failed" && event.amount > 500.0"#);
    yes(
        r#"event.status != "failed" && event.type in ["payment", "transfer", "red_packet", "withdrawal"]"#,
    );
    no(r#"event.type == "feedback" && event.label == "fraud""#); // label absent: false first
    no(r#"event.status != "failed" && event.counterparty_id != null"#);
    yes("agg.n > 10 || (agg.total > 5000.0 && agg.n >= 3)");
    no("agg.fraud >= 3 && agg.rate >= 0.05"); // KeyError
    yes(r#"!has(event.channel) || event.channel != "pos""#);
    yes("event.lat != null && event.lon != null");
    no("event.amount >= 0.8 * steps.topup.amount && !(event.instrument_id != null && event.instrument_id == steps.topup.instrument_id)");
    // 3804.455858092412 km in 1000 s
    yes(PACK[12]);
    assert_value(
        "distance_km(steps.here.lat, steps.here.lon, event.lat, event.lon)",
        &ctx,
        Value::Float(3804.455858092412),
    );
    assert_value(
        r#"event.type == "withdrawal" ? event.account_id : event.counterparty_id"#,
        &ctx,
        s("acc-1"),
    );
    assert_value("event.account_id", &ctx, s("acc-1"));
    assert_value("event.device_id", &ctx, Value::Null); // the field path reads a missing field as null
    assert_eq!(test("event.device_id", &ctx), Ok(false));
    let profiles = Value::map(vec![(
        "account",
        Value::map(vec![(
            "patterns",
            Value::List(Rc::new(vec![s("a"), s("b")])),
        )]),
    )]);
    let scoring = Ctx::new()
        .with(Var::Event, &withdrawal)
        .with(Var::Profiles, &profiles);
    assert_eq!(
        test("size(profiles.account.patterns) >= 2", &scoring),
        Ok(true)
    );
    assert_eq!(
        test(
            "profiles.counterparty.max_severity >= 70 || profiles.merchant.max_severity >= 70",
            &scoring
        ),
        Ok(false)
    );
}

#[test]
fn cel_errors_have_the_types_cel_gives() {
    let empty = event(&[]);
    let ctx = Ctx::new().with(Var::Event, &empty);
    assert_eq!(eval("event.amount > 1", &ctx), Err(KEY_ERROR));
    assert_eq!(test("event.amount > 1", &ctx), Ok(false));
    let text = event(&[("amount", s("x"))]);
    let ctx = Ctx::new().with(Var::Event, &text);
    assert_eq!(eval("event.amount > 1", &ctx), Err(TYPE_ERROR));
    let map = Value::map(vec![
        ("a", Value::Int(1)),
        ("b", Value::Int(0)),
        ("big", Value::Int(i64::MAX)),
    ]);
    let ctx = Ctx::new().with(Var::Event, &map);
    assert_eq!(eval("event.a / event.b", &ctx), Err(ZERO_DIVISION));
    assert_eq!(test("event.a / event.b > 1", &ctx), Ok(false)); // no match, no crash
    assert_eq!(eval("event.big * 2", &ctx), Err(OVERFLOW));
    assert_eq!(test("event.big + 1 > 0", &ctx), Ok(false));
    assert_eq!(
        eval("event.missing > 1 && false", &ctx),
        Ok(Value::Bool(false))
    );
    // && and || absorb errors on either side (never Fallback)
    assert_eq!(
        eval("false && event.a / event.b > 1", &ctx),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        eval("event.a / event.b > 1 && false", &ctx),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        eval("event.a / event.b > 1 || true", &ctx),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval("event.a / event.b > 1 || false", &ctx),
        Err(ZERO_DIVISION)
    );
    assert_eq!(
        eval("event.missing || event.a / event.b > 1", &ctx),
        Err(ZERO_DIVISION)
    ); // the right side's
    assert_eq!(eval("event.missing && true", &ctx), Err(KEY_ERROR));
    assert_eq!(eval("event.a && true", &ctx), Err(TYPE_ERROR)); // not a boolean
    assert_eq!(eval("event.a || false", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("true && true", &ctx), Ok(Value::Bool(true)));
    assert_eq!(
        eval("event.missing || event.a == 1", &ctx),
        Ok(Value::Bool(true))
    );
    // a missing context variable is null; an unknown name too
    let none = Ctx::new();
    assert_eq!(eval("event.a > 1", &none), Err(TYPE_ERROR));
    assert_eq!(eval("foo == null", &none), Ok(Value::Bool(true)));
    assert_eq!(eval("foo.x", &none), Err(TYPE_ERROR));
    assert_eq!(eval("has(agg.x)", &none), Err(TYPE_ERROR));
    // but the field path shortcut subscripts the context
    assert_eq!(eval("event.a", &none), Err(KEY_ERROR));
    assert_eq!(test("event.a", &none), Ok(false));
}

#[test]
fn cel_arithmetic() {
    let ctx = Ctx::new();
    assert_value("1 + 2", &ctx, Value::Int(3));
    assert_value("-1 / 2", &ctx, Value::Int(0));
    assert_value("7 / -2", &ctx, Value::Int(-3));
    assert_value("-7 / 2", &ctx, Value::Int(-3));
    assert_value("7.0 / 2.0", &ctx, Value::Float(3.5));
    assert_value("-1.0 / 0.0", &ctx, Value::Float(f64::NEG_INFINITY));
    assert_value("1.0 / -0.0", &ctx, Value::Float(f64::NEG_INFINITY));
    assert_value("0.0 / 0.0", &ctx, Value::Float(f64::NAN));
    assert_value("-0.0", &ctx, Value::Float(-0.0));
    assert_value("1.5e308 * 10.0", &ctx, Value::Float(f64::INFINITY));
    assert_value("0.1 + 0.2", &ctx, Value::Float(0.1 + 0.2));
    assert_value("'a' + 'b'", &ctx, s("ab"));
    assert_value("-9223372036854775807 - 1", &ctx, Value::Int(i64::MIN));
    assert_eq!(eval("-9223372036854775807 - 2", &ctx), Err(OVERFLOW));
    assert_eq!(eval("9223372036854775807 + 1", &ctx), Err(OVERFLOW));
    assert_eq!(eval("4611686018427387904 * 2", &ctx), Err(OVERFLOW));
    assert_eq!(eval("(-9223372036854775807 - 1) / -1", &ctx), Err(OVERFLOW));
    assert_eq!(eval("-(-9223372036854775807 - 1)", &ctx), Err(OVERFLOW));
    assert_eq!(eval("1 / 0", &ctx), Err(ZERO_DIVISION));
    assert_eq!(eval("1 + 1.0", &ctx), Err(TYPE_ERROR)); // no mixed arithmetic
    assert_eq!(eval("'a' - 'b'", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("'a' * 2", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("-'x'", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("-null", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("-true", &ctx), Err(TYPE_ERROR));
    let list = Value::List(Rc::new(vec![Value::Int(1)]));
    let ctx = Ctx::new().with(Var::Agg, &list);
    assert_value(
        "agg + agg",
        &ctx,
        Value::List(Rc::new(vec![Value::Int(1), Value::Int(1)])),
    );
    assert_eq!(eval("agg + 1", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("-agg", &ctx), Err(TYPE_ERROR));
}

#[test]
fn cel_comparisons() {
    let ctx = Ctx::new();
    let yes = |source: &str| assert_eq!(eval(source, &ctx), Ok(Value::Bool(true)), "{source:?}");
    let no = |source: &str| assert_eq!(eval(source, &ctx), Ok(Value::Bool(false)), "{source:?}");
    yes("1 == 1.0");
    yes("1 < 1.5");
    no("true < false");
    yes("null == null");
    no("1 == true");
    no("'1' == 1");
    yes("'ab' < 'b'");
    yes("'é' > 'z'");
    yes("9007199254740993 == 9007199254740992.0"); // compared as doubles
    no("0.0 / 0.0 == 0.0 / 0.0");
    yes("1 in [1, 2.5, 'x', null, true]");
    yes("2.5 in [1, 2.5]");
    yes("null in [null]");
    no("true in [1]");
    yes("'x' in ['x', 'y']");
    no("1 in ['1']");
    assert_eq!(eval("null < null", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("1 < 'a'", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("0.0 / 0.0 < 1", &ctx), Err(TYPE_ERROR));
    let list = Value::List(Rc::new(vec![]));
    let map = Value::map(vec![]);
    let ctx = Ctx::new().with(Var::Agg, &list).with(Var::Entity, &map);
    for source in [
        "agg == agg",
        "agg != 1",
        "entity == entity",
        "entity != agg",
    ] {
        assert_eq!(eval(source, &ctx), Ok(Value::Bool(true)), "{source:?}");
    }
    for source in ["agg in [1]", "agg in ['x']", "agg == null"] {
        assert_eq!(eval(source, &ctx), Ok(Value::Bool(false)), "{source:?}");
    }
    assert_eq!(eval("agg < 1", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("entity < 1", &ctx), Err(TYPE_ERROR));
}

#[test]
fn cel_logic_selection_and_size() {
    let attributes = Value::map(vec![("k", s("x"))]);
    let ev = event(&[
        ("type", s("withdrawal")),
        ("attributes", attributes),
        ("amount", Value::Float(5.0)),
        ("label", Value::Null),
    ]);
    let ctx = Ctx::new().with(Var::Event, &ev);
    assert_value("!true", &ctx, Value::Bool(false));
    assert_eq!(eval("!null", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("!event", &ctx), Err(TYPE_ERROR));
    assert_value("true ? 1 : 2", &ctx, Value::Int(1));
    assert_eq!(eval("1 ? 2 : 3", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("event ? 2 : 3", &ctx), Err(TYPE_ERROR));
    assert_value(
        "event.type == 'withdrawal' ? event.amount : 0.0",
        &ctx,
        Value::Float(5.0),
    );
    assert_value("event.attributes.k", &ctx, s("x"));
    assert_value("has(event.attributes.k)", &ctx, Value::Bool(true));
    assert_value("has(event.attributes.z)", &ctx, Value::Bool(false));
    assert_value("has(event.label)", &ctx, Value::Bool(true)); // present and null
    assert_value("has(event.ip)", &ctx, Value::Bool(false)); // absent
    assert_value("has(event.not_a_field)", &ctx, Value::Bool(false));
    assert_eq!(eval("event.not_a_field", &ctx), Ok(Value::Null));
    assert_eq!(eval("event.ip == null", &ctx), Err(KEY_ERROR));
    assert_eq!(eval("event.type.x", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("has(event.type.x)", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("has(event.label.x)", &ctx), Err(TYPE_ERROR));
    assert_value("size(event.type)", &ctx, Value::Int(10));
    assert_value("size(event.attributes)", &ctx, Value::Int(1));
    assert_value("size(event)", &ctx, Value::Int(4));
    assert_value("size('é')", &ctx, Value::Int(1)); // code points
    assert_eq!(eval("size(1)", &ctx), Err(TYPE_ERROR));
    // results that are maps or lists are values, which no condition holds for
    assert!(matches!(
        eval("true ? event.attributes : 1", &ctx),
        Ok(Value::Map(_))
    ));
    assert_eq!(test("true ? event.attributes : 1", &ctx), Ok(false));
    assert!(matches!(eval("event.attributes", &ctx), Ok(Value::Map(_))));
    assert_eq!(test("event.attributes", &ctx), Ok(false));
    let list = Value::List(Rc::new(vec![Value::Int(1)]));
    let ctx = Ctx::new().with(Var::Agg, &list);
    assert_eq!(eval("agg.x", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("has(agg.x)", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("size(agg)", &ctx), Ok(Value::Int(1)));
    // the field path shortcut on a non-map: no field to select
    assert_eq!(
        Expr::compile("event.x")
            .unwrap()
            .evaluate(&Ctx::new().with(Var::Event, &list)),
        Err(TYPE_ERROR)
    );
}

#[test]
fn cel_distance_km_is_pythons() {
    let cases: [((f64, f64, f64, f64), f64); 9] = [
        ((1.0, 2.0, 3.0, 4.0), 314.4033852954768),
        ((31.2, 121.5, 1.35, 103.8198), 3804.455858092412),
        ((0.0, 0.0, 0.0, 0.0), 0.0),
        ((-45.0, 179.9, 45.0, -179.9), 10007.576628200877),
        // where libm's pow(x, 2.0) differs from x * x
        ((16.9128, 117.4664, -7.9803, -28.1674), 16160.468783974677),
        ((-79.9727, 149.785, -84.1102, -2.3169), 1721.0056660615787),
        ((-60.0889, 121.1833, 78.7287, -8.194), 17321.02122255013),
        ((-50.5731, 66.9446, 23.5557, -164.9298), 14669.110838699546),
        ((f64::NAN, 1.0, 2.0, 3.0), 20015.114442035923),
    ];
    for ((lat1, lon1, lat2, lon2), expected) in cases {
        let got = distance_km(lat1, lon1, lat2, lon2).unwrap();
        assert_eq!(
            got.to_bits(),
            expected.to_bits(),
            "{lat1} {lon1} {lat2} {lon2}: {got}"
        );
    }
    assert_eq!(
        distance_km(f64::INFINITY, 0.0, 0.0, 0.0),
        Err(ErrorKind::Value)
    );
    let ctx = Ctx::new();
    assert_value(
        "distance_km(1, 2, 3, 4)",
        &ctx,
        Value::Float(314.4033852954768),
    );
    assert_value(
        "distance_km(1, 2, 3, 4.0)",
        &ctx,
        Value::Float(314.4033852954768),
    );
    // int longitudes are subtracted exactly before the conversion
    assert_value(
        "distance_km(807, -9223372036854775807 - 1, 3, 9223372036854775807)",
        &ctx,
        Value::Float(9530.00271153235),
    );
    assert_eq!(eval("distance_km(1, 2, 3)", &ctx), Err(TYPE_ERROR));
    assert!(Expr::compile("distance_km(1, 2, 3, 4,)").is_err()); // a trailing comma
    assert_eq!(eval("distance_km(1, 2, 3, 'x')", &ctx), Err(TYPE_ERROR));
    assert_eq!(eval("distance_km(1, 2, 3, true)", &ctx), Err(TYPE_ERROR));
    assert_eq!(
        eval("distance_km(1e308 * 10.0, 2, 3, 4.0)", &ctx),
        Err(Fault::Error(ErrorKind::Value))
    );
    // the interpreter's distance_km is the fast path's
    assert_value(
        "[1].map(x, distance_km(x, 2, 3, 4))[0]",
        &ctx,
        Value::Float(314.4033852954768),
    );
    assert_eq!(
        eval("[1].map(x, distance_km(x, 2, 3))", &ctx),
        Err(TYPE_ERROR)
    );
    assert_eq!(
        eval("[1e308 * 10.0].map(x, distance_km(x, 2, 3, 4))", &ctx),
        Err(Fault::Error(ErrorKind::Value))
    );
    assert_eq!(
        eval("distance_km(1, 2, 3, 4, event.x)", &ctx),
        Err(TYPE_ERROR)
    ); // arguments first
}

#[test]
fn cel_interpreted_evaluations_report_their_longest_time_once() {
    let items = format!(
        "[{}]",
        (0..100)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let source = format!("{items}.exists(a, {items}.exists(b, a + b < 0))");
    let expr = Expr::compile(&source).expect("within the cost budget");
    assert!(!expr.is_fast());
    assert_eq!(expr.take_slowest_us(), 0, "nothing evaluated yet");
    assert_eq!(expr.evaluate(&Ctx::new()), Ok(Value::Bool(false)));
    assert!(
        expr.take_slowest_us() > 0,
        "ten thousand iterations take a while"
    );
    assert_eq!(expr.take_slowest_us(), 0, "asked once, then afresh");
}
