"""Changes of choices that many members ask for at once, done together (``service.submit``):
each written as it would be alone, with its version, its event and its notice; a refusal is
the asker's alone."""

from __future__ import annotations

from collections import Counter
from functools import partial

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

from coop.auth.policy import Actor, Role
from coop.choices import queries, service
from coop.choices.encoding import Preference
from coop.choices.models import ChoiceVersion
from coop.db import Database
from coop.errors import Invalid, PreconditionFailed
from coop.mail.models import MailKind, OutboxMessage
from coop.members.models import Member
from coop.record.verification import verify_record
from coop.types import utcnow
from coop.vocabulary.terms import PUBLIC_SECTOR_ONLY, Purpose, UserType
from tests import factories as f
from tests.together import together


def _submit(database: Database, member_id: int, patch: service.ChoicePatch, if_match: str | None = None) -> object:
    actor = Actor("user", member_id, Role.member, member_id=member_id)
    try:
        return service.submit(database, service.Change(actor, member_id, patch, if_match, utcnow()))
    except Exception as exc:
        return exc


def test_changes_asked_at_once_are_each_written_with_their_event_and_notice(
    client: TestClient, database: Database
) -> None:
    _board, people = f.with_members(client, database, 10)
    ids = [p.id for p in people]
    public_only = next(iter(PUBLIC_SECTOR_ONLY))
    asks = [
        *(partial(_submit, database, m, service.ChoicePatch(donate_dividend=True)) for m in ids),
        partial(_submit, database, ids[0], service.ChoicePatch(opt_out=True)),  # the same member again
        partial(
            _submit,
            database,
            ids[0],
            service.ChoicePatch(preferences=((Purpose.research, UserType.commercial, Preference.deny),)),
        ),
        partial(
            _submit,
            database,
            ids[1],
            service.ChoicePatch(preferences=((public_only, UserType.commercial, Preference.allow),)),
        ),
        partial(_submit, database, ids[2], service.ChoicePatch(opt_out=True), '"1.1"'),  # another member's version
    ]
    outcomes = together(*asks)
    refused = outcomes[12:]
    assert isinstance(refused[0], Invalid) and refused[0].code == "prohibited-use"
    assert isinstance(refused[1], PreconditionFailed)
    written = outcomes[:12]
    assert all(isinstance(v, ChoiceVersion) for v in written), written
    with database.unit_of_work(write=False) as s:
        versions = s.execute(select(ChoiceVersion).where(col(ChoiceVersion.member_id).in_(ids))).scalars().all()
        kinds = Counter(
            s.execute(
                select(col(OutboxMessage.member_id)).where(col(OutboxMessage.kind) == MailKind.choices_changed.value)
            ).scalars()
        )
        keys = {database.signer.key_id: database.signer.public_key}
        report = verify_record(s.connection(), database.settings, keys, now=utcnow())
    per_member = Counter(v.member_id for v in versions)
    assert per_member == Counter({ids[0]: 4, **{m: 2 for m in ids[1:]}})  # admission, then each change
    first = sorted((v for v in versions if v.member_id == ids[0]), key=lambda v: v.version)
    assert [v.version for v in first] == [1, 2, 3, 4] and [v.valid_to is None for v in first] == [False] * 3 + [True]
    last = first[-1]
    assert last.donate_dividend and last.opt_out  # none of the three changes lost the others'
    assert kinds == Counter({ids[0]: 3, **{m: 1 for m in ids[1:]}})  # a notice for every change written
    assert report.ok, report.problems  # the events match the versions, the log is whole


def test_a_change_of_nothing_returns_the_open_version_the_session_holds(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    me = Actor("user", m.id, Role.member, member_id=m.id)
    with database.unit_of_work() as s:
        held = queries.current(s, m.id)
        assert service.change(s, me, m.id, service.ChoicePatch(opt_out=False), None, utcnow()) is held


def test_the_notice_goes_to_the_address_the_session_holds(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    me = Actor("user", m.id, Role.member, member_id=m.id)
    with database.unit_of_work() as s:
        member = s.get(Member, m.id)
        assert member is not None
        member.email = "new@coop-test.nl"  # not flushed yet: the change reads it as written
        service.change(s, me, m.id, service.ChoicePatch(opt_out=True), None, utcnow())
    with database.unit_of_work(write=False) as s:
        kind = col(OutboxMessage.kind) == MailKind.choices_changed.value
        to = s.execute(select(col(OutboxMessage.recipient)).where(col(OutboxMessage.member_id) == m.id, kind))
        assert to.scalars().all() == ["new@coop-test.nl"]


def test_the_version_a_change_returns_is_the_version_written(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    patch = service.ChoicePatch(
        donate_dividend=True, preferences=((Purpose.research, UserType.commercial, Preference.deny),)
    )
    returned = _submit(database, m.id, patch)
    assert isinstance(returned, ChoiceVersion) and returned.id is not None
    with database.unit_of_work(write=False) as s:
        stored = s.get(ChoiceVersion, returned.id)
        assert stored is not None
        assert returned.model_dump() == stored.model_dump()
    assert returned.version == 2 and returned.donate_dividend and returned.valid_to is None
