"""The labelled traffic simulators: a library that commands, benchmarks and tests use.

``riskstream simulate`` runs the population model below;
:mod:`.traffic` is the small, quick simulator of the demo and the benchmarks.

Background wallet traffic from a seeded population (customers with their own cities,
devices, IP addresses, instruments, spending habits and a day/night rhythm; merchants
with terminals), with the scenario library's fraud stories and their look-alikes
injected at random moments, fraud feedback arriving with a realistic delay, and the
ground truth written to a separate labels file.

One idea per module:

- :mod:`.event`: the simulated event, its ground truth kept beside it;
- :mod:`.traffic`: seeded ordinary traffic with a few injected attacks, and malformed
  messages;
- :mod:`.scenarios`: the fraud stories of the default pack, and their look-alikes;
- :mod:`.config`: the options of a run;
- :mod:`.geography`: cities, time zones, distances and journeys;
- :mod:`.rhythm`: the day/night intensity and session times drawn from it;
- :mod:`.ids`: entity ids and IP addresses that say nothing about their origin;
- :mod:`.population`: customers and merchants;
- :mod:`.background`: one customer's ordinary traffic;
- :mod:`.feedback`: who reports a fraud, how late, and legit disputes;
- :mod:`.injection`: the scenario instances, their labels, their feedback;
- :mod:`.dataset`: the whole run in event-time order, with final event ids;
- :mod:`.heldout`: which seeds and sizes are for tuning, which for evaluation;
- :mod:`.output`: JSONL files and Kafka.
"""
