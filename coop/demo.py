"""The demo cooperative: a realistic cooperative for a first look, built through the
product's own services so that every figure, ledger event and report is what real use
would give. Development mode only; the credentials are public.

What it holds: the example statutes; two board users (four eyes); a few thousand members with varied
choices (opt-outs, explicit preferences, excluded categories, donated dividends) and proxies;
two proposals adopted by vote (a revised benefit policy and a revised mandate); HDAB
consultations and permits for a public, an academic and a commercial applicant, plus a
permit whose data holder used the data before the permit was valid (a compliance breach);
manifests, usage and results; permit payments and operating expenses; a committed
distribution of the year's days that have ended; and a grant from the solidarity fund to
society. The story begins a month ago (statutes, members and their choices, permits and
their manifests, usage, money), because a period is distributed only once it has ended and
a distribution counts the manifests made by the end of its period; the votes, the
distribution and the grant happen today.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from coop.access import service as access
from coop.access.models import AccessWhat
from coop.approvals import service as approvals
from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.choices import service as choices_service
from coop.choices.encoding import Preference
from coop.choices.service import ChoicePatch
from coop.db import Database
from coop.decisions.rules import is_prohibited
from coop.governance import queries as governance_queries
from coop.governance import service as governance_service
from coop.governance import voting
from coop.governance.documents import DocumentKind
from coop.hdab import service as hdab
from coop.i18n import Language
from coop.mail import outbox
from coop.mail.models import MailKind, MailStatus, OutboxMessage
from coop.members import service as members_service
from coop.money import distributions, dividend_mail, periods
from coop.money import service as money
from coop.permits import manifests, usage
from coop.permits import service as permits
from coop.permits.usage import NewUsage, ResultKind, UsageKind
from coop.proxies import service as proxies
from coop.types import utcnow
from coop.vocabulary.terms import Category, Purpose, UserType
from ledger import log

BOARD_EMAIL = "board@demo-coop.nl"
BOARD_PASSWORD = "demo-board-password"  # noqa: S105 (public demo login)
SECOND_BOARD_EMAIL = "treasurer@demo-coop.nl"
"""A second board user: committing a distribution and publishing a report need two (four eyes)."""
SECOND_BOARD_PASSWORD = "demo-treasurer-password"  # noqa: S105 (public demo login)
MEMBER_PASSWORD = "demo-member-password"  # noqa: S105 (public demo login)
MEMBERS = [
    ("Anna de Vries", "anna@demo-coop.nl", Language.nl),
    ("Bram Jansen", "bram@demo-coop.nl", Language.nl),
    ("Chloé Martin", "chloe@demo-coop.nl", Language.en),
]
DEFAULT_SIZE = 2_500
FIRST_NAMES = [
    "Sanne",
    "Daan",
    "Emma",
    "Lucas",
    "Julia",
    "Sem",
    "Tess",
    "Noah",
    "Fleur",
    "Levi",
    "Mila",
    "Finn",
    "Lotte",
    "Jesse",
    "Zoë",
    "Thijs",
    "Amira",
    "Mohammed",
    "Yara",
    "Karel",
    "Ingrid",
    "Joost",
]
LAST_NAMES = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "de Boer",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "El Amrani",
    "Yilmaz",
    "Kramer",
]

STORY_DAYS = 30
"""How long ago the demo's story begins."""

Progress = Callable[[str, int], None]
"""Called with a step's description and how many units of work it finished."""


@dataclass
class DemoLogins:
    board: tuple[str, str]
    second_board: tuple[str, str] = ("", "")
    members: list[tuple[str, str]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    size: int = 0


def is_empty(session: Session) -> bool:
    return int(session.execute(select(func.count()).select_from(UserAccount)).scalar_one()) == 0


STATUTES = Path(__file__).with_name("statutes.example.toml")


def work(size: int) -> int:
    """The units of work :func:`seed` reports, for a progress bar."""
    return size + 8


def seed(
    db: Database, size: int = DEFAULT_SIZE, progress: Progress | None = None, voting_seconds: float = 6.0
) -> DemoLogins:
    """Build the demo cooperative in an empty database; ``size`` members in all."""
    step = progress or (lambda _description, _done: None)
    rng = random.Random(2026)  # noqa: S311  (a demo, repeatable on purpose)
    auth = db.settings.auth
    start = utcnow() - timedelta(days=STORY_DAYS)
    with db.unit_of_work() as s:
        governance_service.init_statutes(s, CLI_ACTOR, STATUTES, now=start)
        account = auth_service.bootstrap_board(s, CLI_ACTOR, auth, BOARD_EMAIL, BOARD_PASSWORD, now=utcnow())
        assert account.id is not None
        board = Actor("user", account.id, Role.board)
        logins = DemoLogins(
            board=(BOARD_EMAIL, BOARD_PASSWORD), second_board=(SECOND_BOARD_EMAIL, SECOND_BOARD_PASSWORD), size=size
        )
        keys = {}
        for org, role in (("Health Data Access Body NL (demo)", "hdab"), ("Audit & Co (demo)", "auditor")):
            created = auth_service.create_api_key(s, CLI_ACTOR, org, role, now=utcnow())
            logins.keys[role] = created.token
            keys[role] = created.key
        shared_hash = auth_service.hash_password(auth, MEMBER_PASSWORD)
    hdab_key = keys["hdab"]
    assert hdab_key.id is not None
    hdab_actor = Actor("key", hdab_key.id, Role.hdab, org=hdab_key.org)
    step("the board, the statutes and the keys", 1)

    people: list[tuple[str, str, Language]] = list(MEMBERS)
    for i in range(len(MEMBERS), size):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        people.append((name, f"member{i + 1:05d}@demo-coop.nl", Language.en if rng.random() < 0.15 else Language.nl))
    members: list[tuple[int, Actor]] = []
    joined = start + timedelta(hours=1)
    for lo in range(0, size, 250):
        with db.unit_of_work() as s:
            for name, email, language in people[lo : lo + 250]:
                member, _invitation = members_service.admit(s, board, auth, name, email, language, joined)
                assert member.id is not None
                user = auth_service.create_account(
                    s,
                    CLI_ACTOR,
                    auth,
                    email,
                    MEMBER_PASSWORD,
                    Role.member,
                    member.id,
                    password_hash=shared_hash,
                    now=utcnow(),
                )
                assert user.id is not None
                outbox.withdraw(s, member_id=member.id, kind=MailKind.invitation)  # they have a password already
                members.append((member.id, Actor("user", user.id, Role.member, member_id=member.id)))
                _choose(s, rng, member.id, members[-1][1], joined)
        step("members and their choices", min(250, size - lo))
    logins.members = [(email, MEMBER_PASSWORD) for _, email, _ in MEMBERS]

    with db.unit_of_work() as s:  # proxies: a few members let Anna or Bram decide on research for them
        for member_id, actor in members[len(MEMBERS) :]:
            if rng.random() < 0.03:
                proxy_id, proxy_actor = members[rng.randrange(2)]
                appointment = proxies.appoint(
                    s,
                    actor,
                    member_id,
                    proxy_id,
                    [Purpose.research, Purpose.innovation],
                    None,
                    True,
                    db.settings.choices.proxy_max_depth,
                    start + timedelta(hours=2),
                    show_name=rng.random() < 0.5,
                )
                assert appointment.id is not None  # Anna and Bram said yes to most; a few still wait
                if rng.random() < 0.9:
                    proxies.accept(s, proxy_actor, proxy_id, appointment.id, start + timedelta(hours=3))
    with db.unit_of_work() as s:
        _withdraw_notices(s)
    step("proxies", 1)

    permit_ids = _permits(db, hdab_actor, start + timedelta(days=1))
    step("consultations, permits and manifests", 1)
    _usage_and_results(db, hdab_actor, permit_ids, start + timedelta(days=2))
    step("usage, a compliance breach and results", 1)

    booked, now = (start + timedelta(days=3)).date(), utcnow()
    with db.unit_of_work() as s:
        for i, permit_id in enumerate(permit_ids):
            cents = [450_000, 1_200_000, 2_500_000, 800_000][i % 4]
            money.payment(s, CLI_ACTOR, f"demo-fee-{permit_id}", permit_id, booked, cents, "fee", now=now)
        money.payment(s, CLI_ACTOR, "demo-share-1", permit_ids[2], booked, 1_750_000, "benefit-share", now=now)
        money.expense(s, CLI_ACTOR, "demo-hosting", booked, 240_000, "hosting and security audit", now=now)
        money.expense(s, CLI_ACTOR, "demo-admin", booked, 360_000, "member administration", now=now)
    step("payments and expenses", 1)
    with db.unit_of_work() as s:
        d = distributions.draft(s, CLI_ACTOR, *periods.suggested(s, now), now=now)
    assert d.id is not None
    with db.unit_of_work() as s:  # four eyes: the chair asks, a second board user (the treasurer) approves
        second = auth_service.create_account(
            s, CLI_ACTOR, auth, SECOND_BOARD_EMAIL, SECOND_BOARD_PASSWORD, Role.board, None, now=utcnow()
        )
        assert second.id is not None
        treasurer = Actor("user", second.id, Role.board)
        request = approvals.ask_commit(s, board, d.id, now=utcnow())
    assert request.id is not None
    with db.unit_of_work() as s:
        approvals.approve(s, treasurer, db.settings, request.id, now=utcnow())
        dividend_mail.tell_nobody(s, d.id, utcnow())  # made-up members: nobody to tell
        outbox.withdraw_all(s, MailKind.approval_waiting)  # nor a made-up treasurer
    step("the distribution of the days that have ended", 1)

    _vote(db, board, members, rng, 3 + size / 250)  # room for a fifth of the members to vote
    with db.unit_of_work() as s:
        _withdraw_notices(s)
    step("two proposals voted and adopted", 1)
    with db.unit_of_work() as s:
        now = utcnow()
        money.grant(
            s,
            CLI_ACTOR,
            "demo-grant-1",
            now.date(),
            150_000,
            "Stichting Hartpatiënten Nederland",
            "patient education on heart failure",
            now=now,
        )
        # who looked at members' data: the HDAB downloading the first manifest, the board
        # opening the first member's page on her request (she sees both on /me/access)
        access.record(s, hdab_actor, access.Read(AccessWhat.manifest, manifest_id=1), now)
        access.record(s, board, access.Read(AccessWhat.member_page, member_id=1), now)
        log.sign_current_head(s, db.signer, now=now)
    step("a grant to society", 1)
    return logins


NOTICES = (
    MailKind.choices_changed,
    MailKind.proxy_appointed,
    MailKind.proxy_ended,
    MailKind.proxy_accepted,
    MailKind.acting_for_started,
    MailKind.acting_for_ended,
    MailKind.vote_opened,
    MailKind.vote_result,
)


def _withdraw_notices(s: Session) -> None:
    """The demo's history is made up: nobody is told of it by mail."""
    s.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == MailStatus.pending.value,
            col(OutboxMessage.kind).in_([k.value for k in NOTICES]),
        )
        .values(status=MailStatus.withdrawn.value, context="{}"),
        execution_options={"synchronize_session": False},
    )


def _choose(s: Session, rng: random.Random, member_id: int, actor: Actor, now: datetime) -> None:
    """Varied choices: most leave it to the cooperative; some opt out, some say yes or no
    to particular uses, some exclude sensitive data, some give their dividend away."""
    roll = rng.random()
    if roll < 0.55:
        return
    if roll < 0.63:
        patch = ChoicePatch(opt_out=True)
    else:
        allowed = [(p, u) for p in Purpose for u in UserType if not is_prohibited(p, u)]  # the law decides the rest
        pairs = rng.sample(allowed, rng.randint(1, 4))
        weights = {UserType.public: 0.85, UserType.academic: 0.8, UserType.commercial: 0.35}
        preferences = tuple(
            (p, u, Preference.allow if rng.random() < weights[u] else Preference.deny) for p, u in pairs
        )
        excluded = frozenset({Category.genetic}) if rng.random() < 0.2 else None
        patch = ChoicePatch(
            preferences=preferences, excluded_categories=excluded, donate_dividend=True if rng.random() < 0.12 else None
        )
    choices_service.change(s, actor, member_id, patch, None, now)


def _vote(db: Database, board: Actor, members: list[tuple[int, Actor]], rng: random.Random, seconds: float) -> None:
    now = utcnow()
    with db.unit_of_work() as s:
        policy = governance_queries.require_in_force(s, DocumentKind.benefit_policy, now).document
        mandate = governance_queries.require_in_force(s, DocumentKind.mandate, now).document
        revised_policy = {**policy.model_dump(mode="json"), "reserve_pct": 15, "solidarity_pct": 35}
        revised_mandate = mandate.model_dump(mode="json")
        revised_mandate["rules"] = [
            r
            for r in revised_mandate["rules"]
            if not (r["purpose"] == "ai-training" and r["user_type"] == "commercial")
        ]
        proposals = [
            voting.open_proposal(
                s,
                board,
                voting.NewProposal(title, kind, body, now, now + timedelta(seconds=seconds), 10, 50),
                now,
            ).id
            for title, kind, body in (
                (
                    "More for the solidarity fund: 15% reserve, 35% fund, 50% members",
                    DocumentKind.benefit_policy,
                    revised_policy,
                ),
                ("No AI training by companies under the mandate", DocumentKind.mandate, revised_mandate),
            )
        ]
    with db.unit_of_work() as s:
        for proposal_id in proposals:
            assert proposal_id is not None
            for _, actor in members:
                if rng.random() < 0.2:
                    choice = (
                        voting.Choice.yes
                        if rng.random() < 0.78
                        else rng.choice([voting.Choice.no, voting.Choice.abstain])
                    )
                    voting.cast(s, actor, proposal_id, choice, None, False, utcnow())
    while utcnow() < now + timedelta(seconds=seconds):
        time.sleep(0.2)
    with db.unit_of_work() as s:
        for proposal_id in proposals:
            assert proposal_id is not None
            voting.close(s, board, proposal_id, utcnow())


APPLICATIONS = [
    ("RIVM", UserType.public, (Purpose.public_health, Purpose.statistics), (Category.ehr, Category.claims), 0, False),
    (
        "UMC Utrecht, cardiology",
        UserType.academic,
        (Purpose.research,),
        (Category.ehr, Category.medical_registries),
        0,
        False,
    ),
    ("Noordpharma B.V.", UserType.commercial, (Purpose.research,), (Category.ehr, Category.claims), 8, False),
    ("Erasmus MC, data science", UserType.academic, (Purpose.research,), (Category.ehr,), 0, True),
]


def _permits(db: Database, hdab_actor: Actor, now: datetime) -> list[int]:
    ids = []
    for i, (applicant, user_type, purposes, categories, share, early) in enumerate(APPLICATIONS, start=1):
        with db.unit_of_work() as s:
            application = hdab.Application(
                f"DEMO-APP-{i}",
                applicant,
                user_type,
                purposes,
                categories,
                24,
                share,
                True,
                True,
                True,
                "better care for heart patients" if user_type is not UserType.commercial else "a new heart medicine",
            )
            consultation = hdab.consult(
                s,
                hdab_actor,
                application,
                db.settings.privacy.small_count_threshold,
                db.settings.choices.proxy_max_depth,
                now,
            )
            starts = now + timedelta(days=2 * STORY_DAYS) if early else now
            permit, _ = permits.register(
                s,
                hdab_actor,
                permits.NewPermit(
                    f"NL-HDAB-{now.year}-{100 + i:04d}",
                    applicant,
                    user_type,
                    purposes,
                    categories,
                    ("Principal investigator", "Data manager"),
                    "secure processing environment only",
                    ("SPE Nederland",),
                    now,
                    starts,
                    starts + timedelta(days=730),
                    0,
                    share,
                    consultation.id,
                ),
                now,
            )
            manifests.create(s, CLI_ACTOR, permit, db.settings, now + timedelta(minutes=1))
            assert permit.id is not None
            ids.append(permit.id)
    return ids


def _usage_and_results(db: Database, hdab_actor: Actor, permit_ids: list[int], now: datetime) -> None:
    from coop.permits.models import Manifest, Permit

    with db.unit_of_work() as s:
        for permit_id in permit_ids:
            permit = s.get(Permit, permit_id)
            assert permit is not None
            manifest = s.execute(select(Manifest).where(col(Manifest.permit_id) == permit_id)).scalars().first()
            assert manifest is not None
            usage.report(
                s,
                hdab_actor,
                permit,
                NewUsage(
                    UsageKind.extraction,
                    now,
                    manifest.id,
                    manifest.size,
                    "extraction into the secure processing environment",
                    None,
                ),
                db.settings,
                utcnow(),
            )
            usage.report(
                s,
                hdab_actor,
                permit,
                NewUsage(UsageKind.access, now, None, None, "analysis by the authorised persons", None),
                db.settings,
                utcnow(),
            )
        for permit_id, title in zip(
            permit_ids[:2],
            ("Heart failure in the Netherlands: trends 2015-2025", "Outcomes of cardiac rehabilitation"),
            strict=True,
        ):
            permit = s.get(Permit, permit_id)
            assert permit is not None
            usage.register_result(
                s,
                hdab_actor,
                permit,
                ResultKind.publication,
                title,
                f"https://example.org/demo/{permit_id}",
                now,
                True,
                utcnow(),
            )
