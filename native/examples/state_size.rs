//! How the state cache's estimate of a state's heap compares with the memory it takes:
//! `cargo run --release --no-default-features --example state_size -- PLAN.json EVENTS.jsonl
//! [MIN_RECORD_BYTES]` (with the last, only the states of records at least that long: the
//! busy entities).
//! (`riskstream simulate` writes a day of events; `benchmarks/replay.py --plan` a plan).
//!
//! The day goes through a cacheless `Live` in micro-batches, as the worker applies it,
//! leaving each entity's record; then every record is decoded into a cache with room for
//! all, and the cache's count is compared with the growth of the process's resident set.

use std::collections::HashMap;
use std::rc::Rc;

use riskstream_native::event::{parse_strict, Event, Interner};
use riskstream_native::live::{Batch, Live};
use riskstream_native::plan::Plan;
use riskstream_native::value::{slot, Value};

const BATCH_EVENTS: usize = 500;

/// The process's resident bytes (`/proc/self/statm`, in pages of 4 KiB).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: usize = statm
        .split(' ')
        .nth(1)
        .expect("resident")
        .parse()
        .expect("pages");
    pages * 4096
}

/// An entity: its group and key.
type Entity = (usize, Rc<str>);
type Table = HashMap<Entity, Vec<u8>>;

/// Applies one micro-batch of events to each of their entities, as the worker does.
fn apply_batch(live: &mut Live, table: &mut Table, events: Vec<Event>) {
    let mut batches: Vec<(Entity, Vec<Event>)> = Vec::new();
    let mut index: HashMap<Entity, usize> = HashMap::new();
    for event in events {
        let account = event.view.get(slot::ACCOUNT_ID).and_then(Value::as_str);
        let mut targets: Vec<Entity> = account
            .map(|account| (0, Rc::from(account)))
            .into_iter()
            .collect();
        targets.extend(live.routes(&event).unwrap_or_default());
        for target in targets {
            let at = *index.entry(target.clone()).or_insert_with(|| {
                batches.push((target, Vec::new()));
                batches.len() - 1
            });
            batches[at].1.push(event.clone());
        }
    }
    for ((group, key), events) in batches {
        let stored = table.get(&(group, key.clone())).cloned();
        let out = live.apply(Batch {
            group,
            key: key.clone(),
            stored,
            events,
        });
        table.insert((group, key), out.record);
    }
}

/// The day's events through a cacheless `Live`: each entity's record.
fn build(plan: Plan, data: &[u8]) -> Table {
    let mut ids = Interner::default();
    let mut events: Vec<Event> = data
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| parse_strict(line, &mut |_| None, &mut ids))
        .collect();
    events.sort_by_key(|event| event.ts_ms);
    let mut live = Live::new(plan, 0);
    let mut table = Table::new();
    while !events.is_empty() {
        let rest = events.split_off(BATCH_EVENTS.min(events.len()));
        apply_batch(&mut live, &mut table, std::mem::replace(&mut events, rest));
    }
    table
}

/// The table as (group, key, record), each length-prefixed (u32, little-endian).
fn write_table(table: &Table) -> Vec<u8> {
    let mut out = Vec::new();
    for ((group, key), record) in table {
        out.extend_from_slice(&(*group as u32).to_le_bytes());
        for bytes in [key.as_bytes(), record] {
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
    }
    out
}

fn read_table(bytes: &[u8]) -> Vec<(usize, Rc<str>, Vec<u8>)> {
    fn take<'a>(bytes: &'a [u8], at: &mut usize, length: usize) -> &'a [u8] {
        *at += length;
        &bytes[*at - length..*at]
    }
    fn number(bytes: &[u8], at: &mut usize) -> usize {
        u32::from_le_bytes(take(bytes, at, 4).try_into().expect("4 bytes")) as usize
    }
    let mut at = 0;
    let mut table = Vec::new();
    while at < bytes.len() {
        let group = number(bytes, &mut at);
        let length = number(bytes, &mut at);
        let key = std::str::from_utf8(take(bytes, &mut at, length)).expect("a key");
        let length = number(bytes, &mut at);
        table.push((group, Rc::from(key), take(bytes, &mut at, length).to_vec()));
    }
    table
}

/// Decodes every record of at least `least` bytes into a cache with room for all: the
/// cache's count against what the resident set grew by.
fn measure(plan: Plan, table: &[(usize, Rc<str>, Vec<u8>)], least: usize) {
    let mut live = Live::new(plan, usize::MAX / 2);
    let chosen: Vec<_> = table
        .iter()
        .filter(|(.., record)| record.len() >= least)
        .collect();
    let record_bytes: usize = chosen.iter().map(|(.., record)| record.len()).sum();
    let before = resident_bytes();
    for (group, key, record) in chosen {
        live.apply(Batch {
            group: *group,
            key: key.clone(),
            stored: Some(record.clone()),
            events: Vec::new(),
        });
    }
    let grown = resident_bytes() - before;
    let (_, _, states, estimate) = live.cache_stats();
    let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
    println!(
        "{states} states, {:.1} MiB of records: estimate {:.1} MiB, resident set grew {:.1} MiB \
         (estimate / growth {:.2}); the old count (24 x record) {:.1} MiB",
        mib(record_bytes),
        mib(estimate),
        mib(grown),
        estimate as f64 / grown as f64,
        mib(record_bytes * 24),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let plan = Plan::from_json(&std::fs::read(&args[2]).expect("a plan file")).expect("a plan");
    match args[1].as_str() {
        "build" => {
            let table = build(plan, &std::fs::read(&args[3]).expect("an events file"));
            std::fs::write(&args[4], write_table(&table)).expect("the table written");
        }
        "measure" => {
            // Kept to the end: memory freed before the measure would be reused in it.
            let bytes = std::fs::read(&args[3]).expect("a table file");
            let table = read_table(&bytes);
            let least = args
                .get(4)
                .map_or(0, |bytes| bytes.parse().expect("a length"));
            measure(plan, &table, least);
        }
        other => panic!("build or measure, not {other}"),
    }
}
