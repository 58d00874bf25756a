"""Admitting members in bulk, from the membership administration's export (CSV).

A file has a header row naming its columns: ``name``, ``email``, and optionally ``language``
(``nl`` or ``en``; empty means the cooperative's default) and ``reference`` (the member's
number in the membership administration). Dutch headers (``naam``, ``e-mail``, ``taal``,
``referentie``) are read too, and so are files that Dutch spreadsheets save: separated by
``;``, with a byte-order mark. Other columns are ignored.

Each row is checked on its own; a refused row is reported with its line and reason and the
others go on. A row whose email or reference is already a member's is refused as such, so
importing the same file again admits nobody twice. Rows are admitted in batches, each its
own short transaction: the writers' lock is never held for a whole file, and an import
stopped half way is finished by running it again. Every admission is the same as one by
one (:func:`coop.members.service.admit`): a ledger event, first choices and an invitation.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError
from sqlmodel import Session

from coop.auth import service as auth_service
from coop.auth.policy import Actor
from coop.db import Database
from coop.errors import Invalid
from coop.i18n import DEFAULT_LANGUAGE, Language
from coop.members import queries, service
from coop.members.schemas import MemberIn
from coop.settings import AuthSettings

BATCH = 500
"""Rows admitted per transaction."""

MAX_REFERENCE = 100

HEADERS = {
    "name": "name",
    "naam": "name",
    "email": "email",
    "e-mail": "email",
    "e-mailadres": "email",
    "language": "language",
    "taal": "language",
    "reference": "reference",
    "referentie": "reference",
    "lidnummer": "reference",
}
"""The column names read, lower case, and the field each gives."""

REASONS = {
    "invalid-name": "a name has 1 to 200 characters",
    "invalid-email": "not an email address",
    "unknown-language": "the language is not one of: " + ", ".join(lang.value for lang in Language),
    "invalid-reference": f"a reference has at most {MAX_REFERENCE} characters",
    "duplicate-in-file": "an earlier row of this file has the same email or reference",
    "member-exists": "a member with this email exists already",
    "reference-exists": "a member with this reference exists already",
}
"""Why a row is refused, by code."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    name: str
    email: str
    language: Language
    reference: str | None


@dataclass(frozen=True, slots=True)
class Refused:
    line: int
    code: str

    @property
    def reason(self) -> str:
        return REASONS[self.code]


@dataclass(slots=True)
class Report:
    rows: int = 0
    admitted: list[tuple[int, str]] = field(default_factory=list)
    """(line, member number) of each member admitted."""
    refused: list[Refused] = field(default_factory=list)

    @property
    def already_members(self) -> int:
        """Rows refused because they are members already: what a repeated import finds."""
        return sum(r.code in ("member-exists", "reference-exists") for r in self.refused)


def parse(data: bytes) -> tuple[list[Row], list[Refused]]:
    """The rows of a file that are valid on their own, and the refusals of those that are not
    (including repeats within the file). Invalid when the file itself cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text; save it as CSV UTF-8", code="csv-unreadable", field="file") from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise Invalid("the file is empty; the first row names the columns", code="csv-no-header", field="file")
    columns = {
        HEADERS[h.strip().lower()]: i for i, h in reversed(list(enumerate(header))) if h.strip().lower() in HEADERS
    }
    missing = [c for c in ("name", "email") if c not in columns]
    if missing:
        raise Invalid(
            "the first row must name the columns name and email (and may name language and reference); missing: "
            + ", ".join(missing),
            code="csv-columns",
            field="file",
        )
    rows: list[Row] = []
    refused: list[Refused] = []
    seen: set[str] = set()
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines, as spreadsheets leave at the end
        cell = _cells(values, columns)
        checked = _check(line, cell)
        if isinstance(checked, Refused):
            refused.append(checked)
            continue
        keys = {f"email:{checked.email}"} | ({f"ref:{checked.reference}"} if checked.reference else set())
        if keys & seen:
            refused.append(Refused(line, "duplicate-in-file"))
            continue
        seen |= keys
        rows.append(checked)
    return rows, refused


def _cells(values: Sequence[str], columns: dict[str, int]) -> dict[str, str]:
    return {name: values[i].strip() if i < len(values) else "" for name, i in columns.items()}


def _check(line: int, cell: dict[str, str]) -> Row | Refused:
    language = cell.get("language", "").lower() or DEFAULT_LANGUAGE.value
    reference = cell.get("reference", "") or None
    if reference is not None and len(reference) > MAX_REFERENCE:
        return Refused(line, "invalid-reference")
    try:
        checked = MemberIn(name=cell["name"], email=cell["email"], language=language)
    except ValidationError as exc:
        where = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        code = next(
            (
                c
                for f, c in (("name", "invalid-name"), ("email", "invalid-email"), ("language", "unknown-language"))
                if f in where
            ),
            "invalid-name",
        )
        return Refused(line, code)
    return Row(line, checked.name, auth_service.normalise_email(str(checked.email)), checked.language, reference)


def admit_batch(
    session: Session, actor: Actor, auth: AuthSettings, rows: Sequence[Row], now: datetime
) -> tuple[list[tuple[int, str]], list[Refused]]:
    """Admit ``rows`` (valid and distinct, from :func:`parse`) but those who are members
    already, in one transaction."""
    taken_emails, taken_refs = queries.taken(
        session, {r.email for r in rows}, {r.reference for r in rows if r.reference}
    )
    refused: list[Refused] = []
    fresh: list[Row] = []
    for row in rows:
        if row.email in taken_emails:
            refused.append(Refused(row.line, "member-exists"))
        elif row.reference in taken_refs:
            refused.append(Refused(row.line, "reference-exists"))
        else:
            fresh.append(row)
    new = [service.NewMember(r.name, r.email, r.language, r.reference) for r in fresh]
    admitted = service.admit_many(session, actor, auth, new, now)
    return [(row.line, a.number) for row, a in zip(fresh, admitted, strict=True)], refused


def _batches(rows: Sequence[Row], size: int) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def run(
    db: Database,
    actor: Actor,
    data: bytes,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Parse and admit a whole file, a batch per transaction; ``progress(done, total)`` after
    each batch. The moment ``now`` is each admission's, as for one member at a time."""
    rows, refused = parse(data)
    report = Report(rows=len(rows) + len(refused), refused=refused)
    done = 0
    for batch in _batches(rows, BATCH):
        # a write transaction holds the writers' lock from its start, so nobody admits one of
        # these members between the batch's look-up and its inserts
        with db.unit_of_work() as session:
            admitted, taken = admit_batch(session, actor, db.settings.auth, batch, now)
        report.admitted += admitted
        report.refused += taken
        done += len(batch)
        if progress:
            progress(done, len(rows))
    report.refused.sort(key=lambda r: r.line)
    return report
