//! A decision as a JSONL line, byte for byte as `orjson.dumps` writes it.

use super::Decision;

/// A string as orjson writes it: UTF-8 kept; `"`, `\` and control characters escaped
/// (`\b \t \n \f \r` short, the others `\u00xx` in lower-case hex).
pub fn push_json_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(byte >> 4) as usize]);
            out.push(HEX[(byte & 0xf) as usize]);
        } else {
            out.extend_from_slice(short);
        }
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `orjson.dumps(decision_line(decision))`: `{"event_id","score","decision","reasons":
/// [{"code","detail"(,"signal_id")(,"rule_id")}]}`, None fields left out.
pub fn decision_line(event_id: &str, decision: &Decision) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + 128 * decision.reasons.len());
    out.extend_from_slice(b"{\"event_id\":");
    push_json_str(&mut out, event_id);
    out.extend_from_slice(b",\"score\":");
    out.extend_from_slice(decision.score.to_string().as_bytes());
    out.extend_from_slice(b",\"decision\":");
    push_json_str(&mut out, decision.decision);
    out.extend_from_slice(b",\"reasons\":[");
    for (index, reason) in decision.reasons.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"code\":");
        push_json_str(&mut out, &reason.code);
        out.extend_from_slice(b",\"detail\":");
        push_json_str(&mut out, &reason.detail);
        if let Some(signal_id) = &reason.signal_id {
            out.extend_from_slice(b",\"signal_id\":");
            push_json_str(&mut out, signal_id);
        }
        if let Some(rule_id) = &reason.rule_id {
            out.extend_from_slice(b",\"rule_id\":");
            push_json_str(&mut out, rule_id);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}
