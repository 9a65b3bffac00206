"""The worker's Kafka consumer: Faust's, with a fetch wait riskstream chooses.

Faust builds its aiokafka consumer with ``fetch_max_wait_ms=1500`` and no setting to
change it. aiokafka sends one fetch to a broker at a time, for the partitions it holds
no unread records of; a partition whose records were still being read when that fetch
left waits for its answer, and a broker holds the answer until data comes for one of
the partitions in it or the wait ends. With busy and quiet partitions side by side (an
input topic and the sparse feedback topic, the re-key topic's partitions), new records
of a busy partition waited up to the whole 1.5 s. ``fetch_max_wait_ms`` bounds that.
"""

from __future__ import annotations

from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka

DEFAULT_FETCH_MAX_WAIT_MS = 1500  # Faust's


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Read by AIOKafkaConsumer.start(), which builds the fetcher with it.
        consumer._fetch_max_wait_ms = getattr(
            self.app, "fetch_max_wait_ms", DEFAULT_FETCH_MAX_WAIT_MS
        )
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport, whose worker consumer waits ``app.fetch_max_wait_ms``."""

    Consumer = _Consumer
