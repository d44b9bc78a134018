"""Configuration: pydantic models for NATS, channels, runtime and telemetry; JSON/YAML/env.

A configuration is a :class:`KrytenConfig`. Load one with :func:`load_config` (a
``KrytenConfig``, a plain mapping, or a path to a ``.yaml``/``.yml``/``.json`` file),
or with ``KrytenConfig.from_yaml(path)``, ``.from_json(path)``, ``.from_dict(data)``.
Loading raises only :class:`~kryten_actors.errors.KrytenValidationError`; its message
lists every problem as ``dotted.path: what to do`` (for example
``channels.1.channel: 'my room' is not a valid CyTube channel name; ...``) and its
``errors`` holds the same ``(path, message)`` pairs.

File format (YAML shown; JSON has the same keys). Every key is optional; these are the
defaults except where a comment says "example"::

    profile: seed                    # or kryten-robot: the real bridge's kryten.* subjects
    service_name: kryten-actors      # [A-Za-z0-9_-]+; command `source`, NATS service name
    actor: mybot.actors:Greeter      # example: "module:Class" for channels without their own
    spawn_unknown_channels: false
    retry_attempts: 3                # publish attempts; the wait starts at
    retry_initial_backoff: 0.1       # this many seconds and doubles
    handler_timeout: 30.0
    shutdown_timeout: 10.0
    command_timeout: 10.0            # how long a command waits for the bridge's reply
    max_event_bytes: 1048576         # larger event bodies are dead-lettered as "oversized"
    chat_max_length: 320
    replay: skip                     # or deliver: replayed history reaches handlers, marked
    outcome_window: 1.0              # seconds to listen for CyTube refusing a command
    bridge:
      down_policy: wait              # or fail: BridgeUnavailable at once while it is down
      wait_timeout: 30.0             # longest wait for the bridge / a settled rank
      settle_delay: 0.5
      probe_on_start: true           # ask each bridge for its account and rank at start
      probe_timeout: 2.0
      announce: true                 # publish kryten.lifecycle.{service_name}.*
      heartbeat_interval: 30.0
    chat:
      pace: true                     # pace lines to CyTube's flood limits
      queue_limit: 200               # lines waiting per channel before ChatQueueFull
      split: true                    # split long text at word boundaries
      pace_margin: 0.1               # stretch CyTube's pacing by 10% against jitter
      max_resends: 3                 # resend a line CyTube dropped for flooding
    nats:
      servers: ["nats://127.0.0.1:4222"]   # nats:// or tls:// URLs, at least one
      user: bot                            # example; user and password go together
      password: ${NATS_PASSWORD}           # example; or `token:` alone, or creds_file /
      name: my-bot                         # nkey_seed_file
      tls:                                 # example; for tls:// servers
        ca_file: /etc/nats/ca.pem
        cert_file: /etc/nats/client.pem    # cert_file and key_file go together
        key_file: /etc/nats/client-key.pem
      connect_timeout: 5.0
      reconnect_wait: 2.0
      max_reconnect_attempts: -1           # -1: forever
      pending_bytes: 2097152               # publish buffer while reconnecting
      sub_pending_msgs_limit: 524288       # per subscription, before "slow consumer"
      sub_pending_bytes_limit: 134217728
      ping_interval: 20.0
      max_outstanding_pings: 3
    channels:                        # example; unique by (domain, channel), ignoring case
      - {domain: cytu.be, channel: lounge}
      - {domain: cytu.be, channel: movies, actor: mybot.actors:MovieNight}
    mailbox: {capacity: 1000, overflow: drop_newest}   # drop_oldest | reject | block
    supervision:
      strategy: one_for_one          # one_for_all | rest_for_one
      max_restarts: 10
      within_seconds: 60
      min_backoff: 0.1
      max_backoff: 30
      jitter: 0.2                    # 0..1
      reset_after: 60
    tracing:
      enabled: false
      service_name: null             # defaults to service_name
      endpoint: ${OTEL_ENDPOINT:-http://localhost:4318}   # example; traces → {endpoint}/v1/traces
      protocol: http/protobuf        # or grpc
      sample_ratio: 1.0
    metrics: {enabled: false, channel_label: false}
    delivery: core                   # or jetstream: at-least-once, redelivered after a crash
    jetstream:                       # used with delivery: jetstream
      stream: KRYTEN_EVENTS          # over the profile's event subjects
      manage_stream: true            # false: the stream must exist
      max_age: 86400.0               # retention: a day ...
      max_bytes: 1073741824          # ... or 1 GiB, whichever comes first
      redelivery: skip               # or mark: possible duplicates reach handlers, flagged
      ack_wait: 30.0
      max_ack_pending: 512           # per channel
      fetch_batch: 128
      dedupe_window: 100000          # correlation IDs remembered
      sharding: {enabled: false, lease_ttl: 4.0}   # bucket, member: optional

Rules: unknown keys are errors; strings must not be empty; durations, sizes and
capacities are > 0 (``max_restarts`` ≥ 0, ``max_reconnect_attempts`` ≥ -1,
``retry_attempts`` ≥ 1, ``jitter`` and ``sample_ratio`` in [0, 1]). In the
``kryten-robot`` profile, whose subjects carry no domain, two channels may not share a
name across domains.

Environment: every string value may use ``${VAR}`` or ``${VAR:-default}`` (default when
unset or empty); ``$${`` writes a literal ``${``. A missing variable without a default
fails the load, naming the variable and the field. Numbers and booleans may come from
variables too (``connect_timeout: ${NATS_TIMEOUT:-5}``).

Secrets (``nats.password``, ``nats.token``, a password inside a server URL) never show
in ``repr()``, ``str()``, error messages or :meth:`KrytenConfig.display_dict`.
"""

from __future__ import annotations

from kryten_actors.config.bridge import BridgeConfig, ChatConfig, DownPolicy, ReplayPolicy
from kryten_actors.config.channel import ChannelConfig
from kryten_actors.config.connection import NatsConfig, TlsConfig
from kryten_actors.config.control import ControlAction, ControlConfig
from kryten_actors.config.jetstream import (
    DeliveryMode,
    JetStreamConfig,
    RedeliveryPolicy,
    ShardingConfig,
)
from kryten_actors.config.kryten import ConfigSource, KrytenConfig, Profile, load_config
from kryten_actors.config.mailbox import MailboxConfig, OverflowPolicy
from kryten_actors.config.supervision import SupervisionConfig, SupervisionStrategy
from kryten_actors.config.telemetry import MetricsConfig, TracingConfig, TracingProtocol

__all__ = [
    "BridgeConfig",
    "ChannelConfig",
    "ChatConfig",
    "ConfigSource",
    "ControlAction",
    "ControlConfig",
    "DeliveryMode",
    "DownPolicy",
    "JetStreamConfig",
    "KrytenConfig",
    "MailboxConfig",
    "MetricsConfig",
    "NatsConfig",
    "OverflowPolicy",
    "Profile",
    "RedeliveryPolicy",
    "ReplayPolicy",
    "ShardingConfig",
    "SupervisionConfig",
    "SupervisionStrategy",
    "TlsConfig",
    "TracingConfig",
    "TracingProtocol",
    "load_config",
]
