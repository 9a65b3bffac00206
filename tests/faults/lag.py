"""How far the worker's consumer group is behind: the clock of recovery and of the end.

The worker commits an input offset only after everything its event caused has reached
Kafka (its signals, its re-keyed copies), and a re-key offset only after the entity
stage has published. So once the group's committed offsets reach the end of the input
topics, then of the re-key topic, every signal of what was waiting has been published.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from riskstream.streams.settings import Settings
from riskstream.streams.topics import admin_client, rekey_topic_name

Offsets = dict[TopicPartition, int]
POLL_S = 0.5


class GroupLag:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        names = settings.topics
        self.inputs = [names.transactions, names.account_events, names.feedback]
        self.rekey = rekey_topic_name(settings)

    def _partitions(self, topics: list[str]) -> list[TopicPartition]:
        return [
            TopicPartition(topic, number)
            for topic in topics
            for number in range(self.settings.partitions)
        ]

    def ends(self, topics: list[str]) -> Offsets:
        client = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=None)
        try:
            known = [tp for tp in self._partitions(topics) if client.partitions_for_topic(tp.topic)]
            return {tp: int(offset) for tp, offset in client.end_offsets(known).items()}
        finally:
            client.close()

    def committed(self) -> Offsets:
        admin = admin_client(self.settings)
        try:
            group = self.settings.app_id
            offsets = admin.list_group_offsets({group: None}).get(group, {})
            return {tp: int(meta.offset) for tp, meta in offsets.items()}
        finally:
            admin.close()

    def behind(self, targets: Offsets) -> int:
        """Messages below ``targets`` the group has not committed yet."""
        done = self.committed()
        return sum(max(0, end - done.get(tp, 0)) for tp, end in targets.items())

    def wait_reached(
        self, targets: Offsets, timeout_s: float, describe: Callable[[], str] = str
    ) -> None:
        deadline = time.monotonic() + timeout_s
        last_report = time.monotonic()
        while True:
            try:
                left = self.behind(targets)
            except KafkaError:  # the broker is coming back: ask again
                left = -1
            if left == 0:
                return
            now = time.monotonic()
            assert now < deadline, f"still {left} messages behind after {timeout_s} s\n{describe()}"
            if now - last_report > 15:
                print(f"[faults]   {left:,} messages still to commit", flush=True)
                last_report = now
            time.sleep(POLL_S)

    def catch_up(self, timeout_s: float, describe: Callable[[], str] = str) -> float:
        """Until the group has committed what the inputs held when this was called, then
        what the re-key topic held by then: the seconds it took."""
        started = time.monotonic()
        self.wait_reached(self.ends(self.inputs), timeout_s, describe)
        self.wait_reached(self.ends([self.rekey]), timeout_s, describe)
        return time.monotonic() - started

    def drain(self, timeout_s: float, describe: Callable[[], str] = str) -> None:
        """Until nothing is left to commit anywhere: the traffic has ended, and messages
        sent round to another partition are read too."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.catch_up(max(1.0, deadline - time.monotonic()), describe)
            every = [*self.inputs, self.rekey]
            if self.behind(self.ends(every)) == 0:
                return
