"""The pipeline benchmark's peer: the least a Faust worker can do with our input.

One agent over the input topics keeps a count per account in a RocksDB-backed,
changelogged Faust table (``counts[account_id] += 1``); nothing else. What the
riskstream worker spends beyond this is what its rules, state records and entity stage
cost. Configured from the environment by ``benchmarks/pipeline.py``:

    BARE_APP_ID=bare-1 BARE_TOPICS=a,b,c BARE_DATA_DIR=/tmp/bare BARE_WEB_PORT=6400 \\
        KAFKA_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python -m benchmarks.bare_faust worker -l warn

``GET /count/`` on the web port answers ``{"events": <events counted so far>}``.

With ``BARE_FORWARD=1`` it is also the floor of the latency benchmark: the agent sends
each record on, keyed by its payee, to ``<app id>-forward``, where a second agent counts
it per payee and writes its event id to ``<app id>-out``: two Faust stages through Kafka,
as the worker's account and entity stages, with no event-time wait and no rules.
"""

from __future__ import annotations

import os

import faust
import orjson
from faust.web import Request, Response, View

from riskstream.streams.app import quiet_root_logger

PARTITIONS = int(os.environ.get("BARE_PARTITIONS", "8"))


class BareApp(faust.App):
    async def on_first_start(self) -> None:
        await super().on_first_start()
        # The same fix as the riskstream worker's (riskstream.streams.app): without it,
        # Faust leaves the root logger at DEBUG at `-l warn`, a cost of its own.
        quiet_root_logger()


app = BareApp(
    os.environ.get("BARE_APP_ID", "bare-faust"),
    broker=[f"kafka://{host}" for host in os.environ["KAFKA_BOOTSTRAP"].split(",")],
    store="rocksdb://",
    datadir=os.environ.get("BARE_DATA_DIR", "var/bare-faust"),
    web_port=int(os.environ.get("BARE_WEB_PORT", "6099")),
    web_bind="127.0.0.1",
    web_host="127.0.0.1",
    topic_partitions=PARTITIONS,
    consumer_auto_offset_reset="earliest",
    broker_commit_interval=1.0,  # as the worker's
    producer_acks=-1,
    autodiscover=False,
    key_serializer="raw",
    value_serializer="raw",
)
# Keys and values in JSON (Faust's default for str and int).
counts = app.Table("counts", default=int, partitions=PARTITIONS, key_type=str, value_type=int)
inputs = app.topic(*os.environ["BARE_TOPICS"].split(","))
seen = {"events": 0, "forwarded": 0}
FORWARD = os.environ.get("BARE_FORWARD") == "1"
forward = app.topic(f"{app.conf.id}-forward", partitions=PARTITIONS, internal=True)


@app.agent(inputs)
async def count(stream: faust.StreamT[bytes]) -> None:
    async for value in stream:
        event = orjson.loads(value)
        counts[event["account_id"]] += 1
        seen["events"] += 1
        if FORWARD:
            payee = str(event.get("counterparty_id") or event["account_id"])
            await forward.send(key=payee.encode(), value=value)


if FORWARD:  # the throughput peer stays one agent and one table
    out = app.topic(f"{app.conf.id}-out", partitions=PARTITIONS, internal=True)
    payees = app.Table("payees", default=int, partitions=PARTITIONS, key_type=str, value_type=int)

    @app.agent(forward)
    async def count_payees(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            event = orjson.loads(value)
            payees[str(event.get("counterparty_id") or event["account_id"])] += 1
            await out.send(value=orjson.dumps({"event_id": event["event_id"]}))
            seen["forwarded"] += 1


@app.page("/count/")
async def count_page(self: View, request: Request) -> Response:
    return self.json(seen)


if __name__ == "__main__":
    app.main()
