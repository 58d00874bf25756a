"""Unsubscribe links: one member, one topic, signed so that nobody can make one for another.

A token is ``<member id>.<topic>.<signature>``, the signature an HMAC-SHA-256 (cut to 128
bits) of the member id and topic under a key derived from the server's secret
(``COOP_AUTH_SECRET_FILE``) for this one use. It never expires: a link in an old message
still switches that message's topic off, and doing so again changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from coop.mail.preferences import Topic

_PURPOSE = b"coop unsubscribe links v1"


def key_from(secret: bytes) -> bytes:
    """The key for unsubscribe links, derived from the server's secret (never the secret itself)."""
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def _signature(key: bytes, member_id: int, topic: Topic) -> str:
    mac = hmac.new(key, f"{member_id}:{topic.value}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token(key: bytes, member_id: int, topic: Topic) -> str:
    return f"{member_id}.{topic.value}.{_signature(key, member_id, topic)}"


def verify(key: bytes, value: str) -> tuple[int, Topic] | None:
    """The member and topic of a genuine token; None for anything else."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 12:
        return None
    try:
        topic = Topic(parts[1])
    except ValueError:
        return None
    member_id = int(parts[0])
    if not hmac.compare_digest(_signature(key, member_id, topic).encode(), parts[2].encode()):
        return None
    return member_id, topic
