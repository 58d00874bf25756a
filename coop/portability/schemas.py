"""The shape of a member's export, version 1: these models are the schema. Their JSON Schema
(draft 2020-12) is kept beside this module as ``member-export-v1.json`` and served at
``/api/v1/schemas/member-export-v1.json``; a test keeps the file equal to these models.

Version 1 is fixed once published: a change that would make an earlier export invalid, or a
valid export mean something else, is a version 2 with a file of its own. Every object refuses
fields it does not name, so a reader can rely on the schema to say all there is."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from coop.i18n import Language
from coop.vocabulary.terms import Category, Purpose, UserType

SCHEMA_VERSION = "1"
SCHEMA_FILE = "member-export-v1.json"
SCHEMA_PATH = "/schemas/" + SCHEMA_FILE
"""Where the schema is served, under the API's prefix."""
SCHEMA_URL_PATH = "/api/v1" + SCHEMA_PATH
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberPart(_Out):
    """Who the member is, as the cooperative keeps it."""

    number: str = Field(description="the member number, as on every letter: M-000001", examples=["M-000001"])
    id: int = Field(description="the member's id in the API (`/api/v1/members/{id}`)")
    name: str | None = Field(description="the member's name; null once erased (see docs/ERASURE.md)")
    email: str | None = Field(
        description="the address the cooperative writes to and the member logs in with; null once erased"
    )
    language: Language = Field(description="the language of the cooperative's messages to the member")
    status: Literal["active", "left"] = Field(description="`active`, or `left` once the member left")
    admitted_at: datetime = Field(description="when the member was admitted")
    left_at: datetime | None = Field(description="when the member left; null while a member")


class MadeBy(StrEnum):
    """Who made a version of a member's choices."""

    self = "self"
    proxy = "proxy"
    carer = "carer"
    board = "board"


class Preference(_Out):
    """The member's own decision for one purpose and kind of user."""

    purpose: Purpose = Field(description="what the data would be used for (EHDS Art. 53)")
    user_type: UserType = Field(description="who would use them")
    decision: Literal["allow", "deny", "proxy"] = Field(
        description="the member's own allow or deny, or `proxy`: their proxy decides"
    )


class ChoiceVersionPart(_Out):
    """One version of the member's choices. Versions are never changed: a change is a new version."""

    version: int = Field(description="1 is the version written at admission; each change adds one")
    valid_from: datetime = Field(description="when this version took effect")
    valid_to: datetime | None = Field(description="when the next version replaced it; null: still in force")
    is_member: bool = Field(description="false in the version written when the member left")
    opt_out: bool = Field(description="the member opted out of every secondary use (EHDS Art. 71)")
    preferences: list[Preference] = Field(
        description="the member's own decisions per purpose and kind of user; every pair not listed follows "
        "the collective mandate"
    )
    excluded_categories: list[Category] = Field(description="kinds of data the member does not share at all")
    sensitive_yes: list[Category] = Field(
        description="sensitive kinds of data (EHDS Art. 51(4)) the member gave their own explicit yes for"
    )
    donate_dividend: bool = Field(description="the member gives their dividend to the solidarity fund")
    made_by: MadeBy = Field(
        description="who made this version: the member themselves (`self`), a member who is their proxy "
        "(`proxy`), a carer who is their proxy (`carer`), or the board (`board`: admission, and changes the "
        "board made on the member's request)"
    )
    proxy_number: str | None = Field(description="the member number of the proxy who made it, when `made_by` is proxy")
    carer_name: str | None = Field(description="the name of the carer who made it, when `made_by` is carer")
    mandate_version: int | None = Field(
        description="the version of the collective mandate (adopted by the members, first in the statutes) in "
        "force when this version started: it decides every pair the member left to it; null before the first"
    )
    changes: list[str] = Field(
        description="what this version changed from the one before, in sentences in the member's language"
    )


class ProxyStatus(StrEnum):
    """Where a proxy appointment stands."""

    waiting = "waiting"
    active = "active"
    ended = "ended"


class AppointmentPart(_Out):
    """A proxy appointment: the principal lets the proxy decide for them on some purposes."""

    id: int = Field(description="the appointment's id in the API")
    principal_number: str = Field(description="the member number of the member who appointed the proxy")
    proxy_number: str | None = Field(description="the proxy's member number, when the proxy is a member")
    carer_name: str | None = Field(
        description="the carer's name, when the proxy is a carer who is not a member; only in appointments the "
        "member made (they chose that person)"
    )
    purposes: list[Purpose] = Field(description="the purposes the proxy decides")
    voting: bool = Field(description="the proxy may also vote for the principal")
    appointed_at: datetime = Field(description="when the member appointed the proxy")
    valid_until: datetime | None = Field(description="when it ends by itself; null: no end date")
    accepted_at: datetime | None = Field(description="when the proxy said yes; it is in force from then on")
    ended_at: datetime | None = Field(description="when it was revoked, declined, stepped down from or ended")
    status: ProxyStatus = Field(
        description="`waiting` for the proxy's answer, `active`, or `ended` (revoked, declined, stepped down "
        "from, or past its end date; with `accepted_at` null it never started)"
    )


class ProxiesPart(_Out):
    """Proxy appointments both ways."""

    appointed: list[AppointmentPart] = Field(description="proxies the member appointed for themselves")
    acting_for: list[AppointmentPart] = Field(
        description="appointments in which the member is the proxy of another member (named by member number only)"
    )


class VotePart(_Out):
    """The member's vote on a proposal (the last one cast: a vote may change until the vote closes)."""

    proposal_id: int = Field(description="the proposal's id in the API")
    proposal_title: str = Field(description="the proposal's title")
    proposal_kind: str = Field(description="`mandate` or `benefit-policy`")
    vote: Literal["yes", "no", "abstain"] = Field(description="the member's choice")
    cast_at: datetime = Field(description="when it was cast")
    by_proxy: bool = Field(description="cast for the member by their proxy")
    proxy_number: str | None = Field(description="the member number of the proxy who cast it, if a member")
    carer_name: str | None = Field(description="the name of the carer who cast it, if a carer")


class ManifestPart(_Out):
    """A cohort manifest of a permit that included the member. The data holder receives the list of
    pseudonyms; the member's pseudonym in it is the proof that their data were included."""

    permit_id: int = Field(description="the permit's id in the API")
    permit_number: str = Field(description="the HDAB's reference of the data permit")
    applicant: str = Field(description="who was granted the permit")
    manifest_id: int = Field(
        description="download the manifest at `/api/v1/permits/{permit_id}/manifests/{manifest_id}`"
    )
    created_at: datetime = Field(description="when the manifest was made")
    as_of: datetime = Field(description="the moment whose choices decided the cohort (the permit's approval)")
    size: int = Field(description="how many pseudonyms the manifest holds")
    root_hash: str = Field(
        pattern="^[0-9a-f]{64}$",
        description="RFC 9162 Merkle root over the manifest's sorted pseudonyms (a leaf is the 32 pseudonym "
        "bytes), as recorded in the ledger of record's `manifest.created` event",
    )
    ledger_seq: int = Field(description="the sequence number of that `manifest.created` event")
    pseudonym: str = Field(
        pattern="^[0-9a-f]{64}$",
        description="the member's pseudonym for this permit, in hex exactly as in the manifest download: "
        "HMAC-SHA256 with the cooperative's key over `permit:<permit_id>:member:<member id>`, so pseudonyms of "
        "two permits cannot be linked",
    )


class DividendPartOut(_Out):
    """The member's share of one permit's pool in a distribution."""

    permit_id: int = Field(description="the permit's id in the API")
    permit_number: str = Field(description="the HDAB's reference of the data permit")
    permit_pool_cents: int = Field(description="the members' pool of this permit, in euro cents")
    permit_members: int = Field(description="how many members share that pool equally")
    position: int = Field(
        description="the member's place among the permit's members, counted from 0 in order of member number; the "
        "cents the pool does not divide evenly go one each to consecutive places from a starting place drawn from "
        "the period and the permit"
    )
    cents: int = Field(description="the member's share, in euro cents")


class DistributionPart(_Out):
    """What the member received from one yearly distribution, and how it was derived."""

    distribution_id: int = Field(description="the distribution's id in the API")
    period_start: date = Field(description="the first day of the period distributed")
    period_end: date = Field(description="the last day of the period distributed")
    total_cents: int = Field(description="the member's dividend from this distribution, in euro cents")
    donated: bool = Field(description="given to the solidarity fund, as the member chose")
    parts: list[DividendPartOut] = Field(description="one share per permit that used the member's data")


class PayoutPart(_Out):
    """A payment of dividends to the member."""

    paid_on: date = Field(description="the day it was booked")
    amount_cents: int = Field(ge=1, description="paid to the member, in euro cents")
    entry_id: str = Field(description="the entry in the cooperative's books")


class DividendsPart(_Out):
    """The member's dividends and their payment; integer euro cents."""

    distributions: list[DistributionPart] = Field(
        description="committed distributions that gave the member a share, oldest first"
    )
    payouts: list[PayoutPart] = Field(description="payments to the member, oldest first")
    balance_cents: int = Field(description="owed to the member and not yet paid (below the minimum payout)")
    paid_out_cents: int = Field(description="paid to the member in total")


class MessagePart(_Out):
    """A message the cooperative wrote to the member (its text is not kept once sent)."""

    kind: str = Field(description="what it was about, e.g. `choices-changed`, `dividend`, `vote-opened`")
    subject: str = Field(description="its subject line, in the language it was written in")
    language: Language = Field(description="the language it was written in")
    created_at: datetime = Field(description="when it was written")
    status: Literal["pending", "sent", "failed", "withdrawn"] = Field(
        description="`pending` (not sent yet), `sent`, `failed` (could not be delivered) or `withdrawn` (not sent: "
        "what it said no longer held)"
    )
    sent_at: datetime | None = Field(description="when it was sent")


class AccessPart(_Out):
    """Someone other than the member who read the member's data."""

    at: datetime = Field(description="when they read it")
    role: str = Field(description="the reader's role, e.g. `board`, `proxy`, `carer`")
    purpose: str = Field(description="why they read it")
    what: str = Field(description="what they read")
    reader: str = Field(description="who read it, as the cooperative names them to the member")


class MemberExport(_Out):
    """Everything the cooperative keeps about one member (GDPR Art. 15 and 20)."""

    model_config = ConfigDict(
        extra="forbid",
        title="Member export, version 1",
        json_schema_extra={
            "description": "Everything a data-solidarity cooperative keeps about one member, as the member (or "
            "the board on the member's request) downloads it: GDPR Art. 15 (access) and Art. 20 (portability). "
            "Times are ISO 8601 with offset; money is integer euro cents."
        },
    )

    schema_: str = Field(alias="schema", description="the URL of this JSON Schema")
    schema_version: Literal["1"] = Field(description="the version of this schema")
    exported_at: datetime = Field(description="when this export was made")
    member: MemberPart = Field(description="who the member is")
    choices_history: list[ChoiceVersionPart] = Field(description="every version of the member's choices, oldest first")
    proxies: ProxiesPart = Field(description="proxy appointments both ways")
    votes: list[VotePart] = Field(description="the member's votes, oldest first")
    manifests: list[ManifestPart] = Field(
        description="every cohort manifest that included the member, oldest first; manifests that did not include "
        "them are not listed"
    )
    dividends: DividendsPart = Field(description="dividends and payouts")
    messages: list[MessagePart] = Field(description="messages to the member, oldest first")
    access_log: list[AccessPart] = Field(description="reads of the member's data by others, oldest first")


def generated_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`MemberExport`, as the committed file must be."""
    schema = MemberExport.model_json_schema(by_alias=True)
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


@cache
def published_schema() -> dict[str, Any]:
    """The committed schema file (``$id`` is added where it is served)."""
    text = resources.files("coop.portability").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def write_schema() -> None:  # pragma: no cover - run by hand after a (new version's) change
    """``python -m coop.portability.schemas`` rewrites the committed file from the models."""
    path = resources.files("coop.portability").joinpath(SCHEMA_FILE)
    with resources.as_file(path) as file:
        file.write_text(json.dumps(generated_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    write_schema()
