//! A state given as JSON, read into the core's [`State`]: how records of the previous
//! format (the Python engine's JSON, converted by `riskstream.tables.legacy`) move on.

use std::cell::Cell;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::codec::{admit, rule_tag};
use crate::dec::Dec;
use crate::filters::SharedFilters;
use crate::plan::{event_mask, Plan};
use crate::state::{Fired, Shown, SignalOut, State};
use crate::value::{event_slot, slot, EventView, Value};

#[derive(Deserialize)]
struct StateDoc {
    watermark_ms: i64,
    first_seen_ms: i64,
    last_seen_ms: i64,
    events_seen: i64,
    late_events: i64,
    entries: Vec<EntryDoc>,
    seen: Vec<(String, i64)>,
    fired: Vec<FiredDoc>,
    baselines: Vec<BaselineDoc>,
    spend: Vec<(i64, String)>,
}

#[derive(Deserialize)]
struct EntryDoc {
    ts_ms: i64,
    event_id: String,
    fields: serde_json::Map<String, Json>,
    /// "rule_id@version" -> match bits.
    flags: HashMap<String, u32>,
}

#[derive(Deserialize)]
struct FiredDoc {
    rule_id: String,
    emitted_by: String,
    start_ms: i64,
    end_ms: i64,
    window_key: String,
    signal_id: String,
    entity_key: String,
    evidence: Vec<String>,
    shown: serde_json::Map<String, Json>,
    trigger_event_id: String,
    detected_ms: i64,
    expires_ms: i64,
}

#[derive(Deserialize)]
struct BaselineDoc {
    rule_id: String,
    aggregate: String,
    days: Vec<(i64, f64, f64)>,
}

fn value_of(json: &Json, depth: usize) -> Result<Value, String> {
    if depth > 64 {
        return Err("values nested too deep".into());
    }
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Number(number) => match number.as_i64() {
            Some(int) if !number.is_f64() => Value::Int(int),
            _ => Value::Float(number.as_f64().ok_or("a number beyond a double")?),
        },
        Json::String(text) => Value::str(text),
        Json::Array(items) => Value::List(Rc::new(
            items
                .iter()
                .map(|item| value_of(item, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        Json::Object(items) => Value::Map(Rc::new(
            items
                .iter()
                .map(|(key, item)| Ok((Rc::from(key.as_str()), value_of(item, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        )),
    })
}

fn id_of(tag: &str) -> &str {
    tag.rsplit_once('@').map_or(tag, |(id, _)| id)
}

fn view_of(entry: &EntryDoc, rules: usize) -> Result<EventView, String> {
    let mut view = EventView {
        event_id: Rc::from(entry.event_id.as_str()),
        flags: smallvec::smallvec![Cell::new(0); rules],
        ..EventView::default()
    };
    for (name, json) in &entry.fields {
        let index = event_slot(name).ok_or_else(|| format!("unknown field {name:?}"))?;
        view.slots[index] = Some(match (index, json) {
            (slot::AMOUNT, Json::String(text)) => {
                view.amount = Some(Dec::parse(text).ok_or("an amount that is not exact")?);
                view.amount_text = Some(Rc::from(text.as_str()));
                Value::Float(text.parse().map_err(|_| "an amount that is no number")?)
            }
            _ => value_of(json, 0)?,
        });
    }
    let text = |index: usize| view.get(index).and_then(Value::as_str).unwrap_or("");
    view.mask = event_mask(text(slot::KIND), text(slot::TYPE));
    Ok(view)
}

/// The state `json` describes, under group `group_index` of `plan`.
pub(crate) fn import(
    json: &[u8],
    plan: &Plan,
    group_index: usize,
    shared: &SharedFilters,
) -> Result<State, String> {
    let doc: StateDoc = serde_json::from_slice(json).map_err(|error| error.to_string())?;
    let group = &plan.groups[group_index];
    let tags: Vec<String> = group
        .rules
        .iter()
        .map(|rule| rule_tag(&rule.id, rule.version))
        .collect();
    let by_id = |id: &str| group.rules.iter().position(|rule| &*rule.id == id);
    let mut state = State::new();
    state.watermark_ms = doc.watermark_ms;
    state.first_seen_ms = doc.first_seen_ms;
    state.last_seen_ms = doc.last_seen_ms;
    state.events_seen = doc.events_seen;
    state.late_events = doc.late_events;
    state.tagged = false; // the first entry gets the treatment a new version's rules get
    for entry in &doc.entries {
        let known = tags
            .iter()
            .map(|tag| entry.flags.get(tag).copied())
            .collect();
        let view = view_of(entry, plan.rules)?;
        admit(&mut state, group, shared, entry.ts_ms, Rc::new(view), known)?;
    }
    let mut seen = doc.seen;
    seen.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    for (id, ts_ms) in seen {
        state.remember(Rc::from(id), ts_ms, true);
    }
    for fired in doc.fired {
        let Some(rule) = by_id(id_of(&fired.rule_id)) else {
            continue;
        };
        let mut shown = Vec::new();
        for (name, json) in &fired.shown {
            let value = match json {
                Json::Number(number) if !number.is_f64() => {
                    Shown::Int(number.as_i64().ok_or("a shown int beyond int64")?)
                }
                Json::Number(number) => Shown::Float(number.as_f64().unwrap_or(f64::NAN)),
                Json::String(text) => Shown::Text(text.clone()),
                other => Shown::Text(other.to_string()),
            };
            shown.push((Rc::from(name.as_str()), value));
        }
        state.fired.push(Fired {
            rule,
            emitted_by: Rc::from(fired.emitted_by),
            start_ms: fired.start_ms,
            end_ms: fired.end_ms,
            window_key: Rc::from(fired.window_key),
            signal: Rc::new(SignalOut {
                group: group_index,
                rule,
                signal_id: Rc::from(fired.signal_id),
                entity_key: Rc::from(fired.entity_key),
                evidence: fired.evidence.into_iter().map(Rc::from).collect(),
                shown,
                trigger_event_id: Rc::from(fired.trigger_event_id),
                detected_ms: fired.detected_ms,
                expires_ms: fired.expires_ms,
            }),
        });
    }
    for baseline in doc.baselines {
        let Some(rule) = by_id(&baseline.rule_id) else {
            continue;
        };
        let aggs = &group.rules[rule].aggs;
        if let Some(agg) = aggs.iter().position(|agg| *agg.name == baseline.aggregate) {
            state.baselines.push(((rule, agg), baseline.days));
        }
    }
    for (day, total) in doc.spend {
        state.spend.push((
            day,
            Dec::parse(&total).ok_or("a daily total that is not exact")?,
        ));
    }
    Ok(state)
}
