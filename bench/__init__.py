"""Benchmarks of kryten-actors against a raw nats-py consumer (issue 7).

Run them all with ``uv run --frozen python -m bench`` (``--quick`` for a short pass,
``--only throughput latency`` to pick). Every case starts its own loopback
``nats-server``, runs in a fresh process, is bounded in time, and checks that every
event published was received before it reports a rate. Results are printed and
written into ``docs/performance.md`` between ``<!-- bench:NAME -->`` markers.
"""
