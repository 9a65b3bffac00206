//! The state cache's budget, counted at each state's measured heap size.

use super::*;
use crate::event::{parse_strict, Interner};
use crate::replay::tests::{payment, plan};

/// Each device's payments, one batch per device, into `live`'s cache; after each batch
/// the cache's count is checked against its slots and its budget.
fn fill(live: &mut Live, devices: usize, per_device: u32) {
    let mut ids = Interner::default();
    for device in 0..devices {
        let key = format!("dev-{device}");
        let events: Vec<Event> = (0..per_device)
            .map(|n| {
                let line = payment(&format!("{key}-e{n}"), n, "acc-a", &key);
                parse_strict(line.as_bytes(), &mut |_| None, &mut ids).expect("strict")
            })
            .collect();
        live.apply(Batch {
            group: 1,
            key: Rc::from(key.as_str()),
            stored: None,
            events,
        });
        let cache = &live.cache;
        let counted: usize = cache.slots.values().map(|slot| slot.cost).sum();
        assert_eq!(cache.bytes, counted, "the count is its slots' sum");
        assert!(
            cache.bytes <= cache.budget,
            "{} > {}",
            cache.bytes,
            cache.budget
        );
        for (key, slot) in &cache.slots {
            assert_eq!(slot.cost, Cache::cost(key, &slot.record, &slot.state));
        }
    }
}

#[test]
fn the_cache_never_holds_more_than_its_budget_by_the_estimate() {
    let mut live = Live::new(plan(), 64 << 10);
    fill(&mut live, 200, 8);
    let (_, _, kept, bytes) = live.cache_stats();
    assert!(
        kept > 4 && kept < 200,
        "some states kept, some evicted: {kept}"
    );
    assert!(bytes > (64 << 10) / 2, "{bytes}");
}

#[test]
fn a_state_larger_than_the_whole_budget_is_not_kept() {
    let mut live = Live::new(plan(), 4 << 10);
    fill(&mut live, 1, 30);
    assert_eq!(live.cache_stats().2, 0, "30 entries take more than 4 KiB");
    let mut live = Live::new(plan(), 1 << 20);
    fill(&mut live, 1, 30);
    let (_, _, kept, bytes) = live.cache_stats();
    assert_eq!(kept, 1);
    assert!(bytes > 4 << 10, "{bytes}");
}
