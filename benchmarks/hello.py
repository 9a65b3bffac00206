"""The floor of the HTTP stack: a plain aiohttp server answering ``POST /score/`` with a
constant decision, after reading and parsing the body as the scorer does. The scorer
serves through aiohttp too (Faust's web server is aiohttp), so what this one costs per
request no scorer can go below.

    python -m benchmarks.hello --port 8099
"""

from __future__ import annotations

import argparse

import orjson
from aiohttp import web

ANSWER = orjson.dumps({"score": 0, "decision": "accept", "reasons": []})


async def score(request: web.Request) -> web.Response:
    orjson.loads(await request.read())
    return web.Response(body=ANSWER, content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/score/", score)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
