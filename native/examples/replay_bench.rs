//! The native replay without Python, for profilers (callgrind counts instructions):
//! `cargo run --release --no-default-features --example replay_bench -- PLAN.json EVENTS.jsonl`
//! (`python -m benchmarks.replay --plan PLAN.json` writes the plan). IP prefixes are
//! left out, which changes nothing for rules that do not read them.

use std::time::Instant;

use riskstream_native::event::{parse_strict, Interner};
use riskstream_native::plan::Plan;
use riskstream_native::replay::Replay;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let plan = std::fs::read(&args[1]).expect("a plan file");
    let data = std::fs::read(&args[2]).expect("an events file");
    let mut plan = Plan::from_json(&plan).expect("a plan");
    let rules = std::mem::take(&mut plan.score_rules);
    let policy = plan.policy;
    let mut replay = Replay::new(plan, rules, policy);
    let started = Instant::now();
    let mut unsure = 0;
    let mut ids = Interner::default();
    for (index, line) in data.split(|byte| *byte == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match parse_strict(line, &mut |_| None, &mut ids) {
            Some(event) => replay.add(index as u64 + 1, event),
            None => unsure += 1,
        }
    }
    let loaded = started.elapsed();
    replay.sort();
    let produced = replay.run(usize::MAX).expect("a native run");
    let ran = started.elapsed();
    let events = replay.events.len() as f64;
    drop(replay); // freeing the state is part of the run's cost
    let total = started.elapsed();
    println!(
        "{} events ({unsure} unsure), load {:.2} us/event, run {:.2} us/event, drop {:.1} ms, {:.0} events/s, {} decision bytes, {} signals",
        events,
        loaded.as_secs_f64() * 1e6 / events,
        (ran - loaded).as_secs_f64() * 1e6 / events,
        (total - ran).as_secs_f64() * 1e3,
        events / total.as_secs_f64(),
        produced.decisions.len(),
        produced.signals.len(),
    );
}
