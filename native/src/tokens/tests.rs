use super::*;

const KEY: &[u8] = b"conformance-test-key-0123456789";

fn tokenised(line: &str) -> String {
    let out = tokenise(line.as_bytes(), &Key::new(KEY)).expect("tokenised");
    String::from_utf8(out.unwrap_or_else(|| line.as_bytes().to_vec())).expect("UTF-8")
}

#[test]
fn tokens_are_the_keyed_hmac_of_kind_and_normalised_value() {
    let key = Key::new(KEY);
    // As Python's hmac module gives them under the same key.
    assert_eq!(
        key.token(Kind::Card, "4111 1111 1111 1111"),
        "tok_pan_eef3c6619fc8f05356a38cab682344e4"
    );
    assert_eq!(
        key.token(Kind::Phone, "+1 555 0100"),
        "tok_phone_7af48c1e00ee03e9f328ef043e679745"
    );
    assert_eq!(
        key.token(Kind::NationalId, "ab-123"),
        "tok_nid_2db9a33acb08556b680334d8e4927d3e"
    );
    assert!(is_token("tok_pan_eef3c6619fc8f05356a38cab682344e4"));
    assert!(!is_token("tok_pan_eef3c6619fc8f05356a38cab682344e"));
}

#[test]
fn a_message_without_sensitive_values_is_left_as_it_is() {
    let line = br#"{"a": 1, "a": 2, "instrument_id": "card-1"}"#;
    assert_eq!(tokenise(line, &Key::new(KEY)), Ok(None));
    assert_eq!(tokenise(b"[4111111111111111]", &Key::new(KEY)), Ok(None));
}

#[test]
fn a_card_number_becomes_a_token_with_its_bin_and_last_4() {
    assert_eq!(
        tokenised(
            r#"{"instrument_id":"4111 1111 1111 1111","cvv":"123","instrument_bin":"x","note":"card 4111-1111-1111-1111 ok"}"#
        ),
        r#"{"instrument_id":"tok_pan_eef3c6619fc8f05356a38cab682344e4","instrument_bin":"411111","note":"card 411111******1111 ok","instrument_last4":"1111"}"#
    );
}

#[test]
fn refusals_say_why() {
    let key = Key::new(KEY);
    assert!(matches!(tokenise(b"{", &key), Err(Refusal::NotJson(_))));
    let deep = format!(
        "{}{}",
        r#"{"a":"#.repeat(34),
        "1}".to_string() + &"}".repeat(33)
    );
    assert_eq!(tokenise(deep.as_bytes(), &key), Err(Refusal::TooDeep));
}

#[test]
fn luhn_and_the_spans_of_card_numbers_in_text() {
    for valid in ["4111111111111111", "378282246310005", "4222222222222"] {
        assert!(pans::luhn_valid(valid), "{valid}");
    }
    assert!(!pans::luhn_valid("4111111111111112"));
    let text = "a 4111111111111111 b 5500-0000-0000-0004";
    let spans: Vec<(usize, usize, String)> = pans::find_pans(text);
    assert_eq!(
        spans,
        vec![
            (2, 18, "4111111111111111".to_string()),
            (21, 40, "5500000000000004".to_string())
        ]
    );
    assert!(pans::find_pans(&"1 ".repeat(2048)).is_empty());
}

#[test]
fn the_quick_look_passes_by_plain_events_and_no_sensitive_one() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/conformance/replay/events.jsonl"
    );
    let events = std::fs::read(path).expect("the recorded day");
    let key = Key::new(KEY);
    let mut passed = 0;
    for line in events
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
    {
        if !may_hold_sensitive(line) {
            passed += 1;
            assert_eq!(tokenise(line, &key), Ok(None));
        }
    }
    assert!(passed > 1000, "{passed}");
    for sensitive in [
        r#"{"instrument_id":"4111 1111 1111 1111"}"#,
        r#"{"a":{"Card-Number":"1234 5678 9012"}}"#,
        r#"{"PHONE":"x"}"#,
        r#"{"n":-4111111111111111}"#,
        r#"{"ph\u006fne":"1"}"#,
        r#"{"t\u00e9l":"1"}"#,
    ] {
        assert!(may_hold_sensitive(sensitive.as_bytes()), "{sensitive}");
    }
    // A name across two strings is none.
    assert!(!may_hold_sensitive(br#"{"device_id":"card-1"}"#));
}
