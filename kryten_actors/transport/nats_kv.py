"""Reading JetStream key-value buckets (what kryten-robot stores per channel) with nats-py."""

from __future__ import annotations

from nats import errors as nats_errors
from nats.aio.client import Client
from nats.js import errors as js_errors

from kryten_actors.errors import KrytenConnectionError, KvUnavailable

__all__ = ["read_kv"]

#: Seconds a key-value read may take before the server counts as not answering.
KV_TIMEOUT = 2.0


async def read_kv(client: Client, bucket: str, key: str) -> bytes | None:
    """``key`` of ``bucket``; None when either is missing; ``KvUnavailable`` without JetStream."""
    js = client.jetstream(timeout=KV_TIMEOUT)
    try:
        store = await js.key_value(bucket)
        entry = await store.get(key)
    except (js_errors.BucketNotFoundError, js_errors.KeyNotFoundError, js_errors.KeyDeletedError):
        return None
    except js_errors.ServiceUnavailableError as exc:
        raise KvUnavailable(f"the NATS server has JetStream off: {exc}") from exc
    except nats_errors.NoRespondersError as exc:
        raise KvUnavailable("the NATS server has no JetStream (no responders)") from exc
    except js_errors.NotFoundError:
        return None
    except nats_errors.TimeoutError as exc:
        raise KrytenConnectionError(f"reading {bucket}/{key} timed out") from exc
    return entry.value
