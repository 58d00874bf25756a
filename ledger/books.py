"""The double-entry books: accounts, balanced entries in integer euro cents, balances as
of any date. Nothing is ever changed: a correction is a reversing entry.

* Amounts are signed integers: debit positive, credit negative; an entry's postings sum
  to exactly zero. Floats, booleans and zero amounts are refused.
* Assets and expenses carry debit balances; liabilities, equity and income carry credit
  balances. :func:`balances` reports each account in its natural sign.
* An account may be flagged ``no_negative``: an entry that would take its natural balance
  below zero (over all entries, whatever their dates) is refused.
* An entry's id is the client's idempotency key: the same id with the same content returns
  the original; with other content it raises :class:`EntryConflict` naming the fields.
* Each entry is also an event of the ledger of record, in the same transaction; so is each
  opening of accounts (``money.accounts-opened``: how many, and the SHA-256 of their lines,
  see :func:`account_line`), which the opened rows name by ``ledger_seq``.

Knows nothing of members or permits.
"""

from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger import bulk, log
from ledger.models import MoneyAccount, MoneyEntry, MoneyPosting

ID = re.compile(r"[A-Za-z0-9._:/+-]{1,80}")
ACCOUNT = re.compile(r"[A-Za-z0-9._:/+-]{1,120}")
MAX_CENTS = 10**15


class Kind(StrEnum):
    asset = "asset"
    liability = "liability"
    equity = "equity"
    income = "income"
    expense = "expense"


DEBIT_NORMAL = frozenset({Kind.asset, Kind.expense})


class BooksError(ValueError):
    """An entry or account the books refuse."""


class UnknownAccount(BooksError):
    pass


class Unbalanced(BooksError):
    pass


class WouldGoNegative(BooksError):
    pass


class EntryConflict(BooksError):
    """An entry id recorded already with other content: ``fields`` of the entry differ from
    ``earlier``, the entry as recorded (callers name their own fields from it)."""

    def __init__(self, entry_id: str, fields: list[str], earlier: Entry) -> None:
        super().__init__(f"entry {entry_id} was recorded already with other {', '.join(fields)}")
        self.fields = fields
        self.earlier = earlier


class Posting(NamedTuple):
    """A line of an entry (a tuple: a closing entry builds one per member)."""

    account: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    booked_on: date
    description: str
    postings: tuple[Posting, ...]

    def content(self) -> dict[str, Any]:
        return {
            "booked_on": self.booked_on.isoformat(),
            "description": self.description,
            "postings": [list(p) for p in self.postings],
        }


LISTED_POSTINGS_BYTES = 60_000
"""A ``money.entry`` event lists its postings while their canonical JSON takes at most this
many bytes; a larger entry (a distribution's closing or payout entry, with a posting per
member) records their count and SHA-256 instead, so that every event fits the 65,535
bytes of an entry bundle (:data:`ledger.events.MAX_EVENT_BYTES`) with room to spare for
its id, date, description and the event's own fields."""


def postings_text(postings: Iterable[tuple[str, int]]) -> str:
    """The postings as a canonical JSON array (account codes need no escaping)."""
    return "[" + ",".join(f'["{account}",{cents}]' for account, cents in postings) + "]"


def postings_recorded(postings: Collection[tuple[str, int]], listed: str | None = None) -> str:
    """The canonical JSON of an entry event's ``postings``: ``listed`` (:func:`postings_text`)
    while it fits :data:`LISTED_POSTINGS_BYTES`, else ``{"count": n, "sha256": hex}`` over
    the postings' lines, each ``["account",cents]`` and a newline, in line order."""
    if listed is None and 8 * len(postings) + 1 <= LISTED_POSTINGS_BYTES:  # each posting takes 8 bytes or more
        listed = postings_text(postings)
    if listed is not None and len(listed) <= LISTED_POSTINGS_BYTES:
        return listed
    digest = hashlib.sha256("".join(f'["{account}",{cents}]\n' for account, cents in postings).encode()).hexdigest()
    return f'{{"count":{len(postings)},"sha256":"{digest}"}}'


def entry_payload(entry: Entry) -> dict[str, Any]:
    """The payload of an entry's ``money.entry`` event."""
    return {
        "id": entry.id,
        "booked_on": entry.booked_on.isoformat(),
        "description": entry.description,
        "postings": json.loads(postings_recorded(entry.postings)),
    }


def entry_errors(entry: Entry) -> list[str]:
    """Everything wrong with an entry on its own (pure)."""
    errors = []
    if not isinstance(entry.id, str) or not ID.fullmatch(entry.id):
        errors.append("id: 1-80 letters, digits or ._:/+-")
    if not 0 < len(entry.description) <= 500:
        errors.append("description: 1-500 characters")
    if len(entry.postings) < 2:
        errors.append("postings: an entry has at least two postings")
    for i, p in enumerate(() if _postings_well_formed(entry.postings) else entry.postings):
        if not ACCOUNT.fullmatch(p.account):
            errors.append(f"postings[{i}].account: not an account code")
        if type(p.amount_cents) is not int:
            errors.append(f"postings[{i}].amount_cents: whole cents only, never a float")
        elif p.amount_cents == 0 or abs(p.amount_cents) > MAX_CENTS:
            errors.append(f"postings[{i}].amount_cents: non-zero and at most {MAX_CENTS}")
    if not errors and sum(p.amount_cents for p in entry.postings) != 0:
        errors.append(f"postings: debits and credits differ by {sum(p.amount_cents for p in entry.postings)} cents")
    return errors


_ACCOUNT_LINES = re.compile(r"(?:[A-Za-z0-9._:/+-]{1,120}\n)*")


def _postings_well_formed(postings: Collection[tuple[str, int]]) -> bool:
    """Every posting of an entry passes the checks of :func:`entry_errors`, found in a few
    passes over all of them (a closing entry has a posting per member); when one does not,
    :func:`entry_errors` looks at each to say which."""
    accounts = [p[0] for p in postings]
    amounts = [p[1] for p in postings]
    if not all(type(c) is int for c in amounts):
        return False
    return (
        _codes_well_formed(accounts)
        and 0 not in amounts
        and (not amounts or (max(amounts) <= MAX_CENTS and min(amounts) >= -MAX_CENTS))
    )


def _codes_well_formed(codes: list[str]) -> bool:
    """Every one of ``codes`` is an account code (:data:`ACCOUNT`), found in one pass."""
    if not all(type(c) is str for c in codes):
        return False
    lines = "\n".join(codes) + "\n" if codes else ""
    return lines.count("\n") == len(codes) and _ACCOUNT_LINES.fullmatch(lines) is not None  # no code has a break


ACCOUNTS_SUBJECT = "books:accounts"
LISTED = 20
"""Openings of at most this many accounts list them in their event; larger ones (a member
account each at a distribution) carry only the count and the digest."""


def account_line(code: str, kind: str, name: str, no_negative: bool) -> str:
    """One account as the canonical JSON array ``[code, kind, name, no_negative]`` and a newline:
    the digest of an opening is the SHA-256 of these lines in code order."""
    text = f'"{name}"' if _PLAIN.fullmatch(name) else json.dumps(name, ensure_ascii=False)
    return f'["{code}","{kind}",{text},{"true" if no_negative else "false"}]\n'


_PLAIN = re.compile(r'[^\x00-\x1f"\\]*')
"""Text that JSON writes as it is, between quotes (a member account's name, a million times)."""


def accounts_opened(lines: list[str]) -> dict[str, Any]:
    """The payload of a ``money.accounts-opened`` event over the accounts' lines in code order."""
    digest = hashlib.sha256("".join(lines).encode()).hexdigest()
    payload: dict[str, Any] = {"count": len(lines), "sha256": digest}
    if len(lines) <= LISTED:
        payload["accounts"] = [json.loads(line) for line in lines]
    return payload


def open_account(
    session: Session, code: str, kind: Kind, name: str, no_negative: bool = False, actor: str = "books"
) -> MoneyAccount:
    """Open an account, or return it when it exists with the same kind (idempotent)."""
    if not ACCOUNT.fullmatch(code):
        raise BooksError(f"{code!r} is not an account code")
    existing = session.get(MoneyAccount, code)
    if existing is not None:
        if existing.kind != kind.value:
            raise BooksError(f"account {code} exists as {existing.kind}, not {kind.value}")
        return existing
    payload = accounts_opened([account_line(code, kind.value, name, no_negative)])
    event = log.append(session, "money.accounts-opened", actor, ACCOUNTS_SUBJECT, payload)
    account = MoneyAccount(code=code, kind=kind.value, name=name, no_negative=no_negative, ledger_seq=event.seq)
    session.add(account)
    session.flush()
    return account


MANY = 5_000
"""Above this many codes, accounts are looked up in one scan of the chart rather than by key."""


_SEEN: weakref.WeakKeyDictionary[Any, dict[str, tuple[Kind, bool]]] = weakref.WeakKeyDictionary()
"""Per transaction, the accounts it has seen or opened: an account never changes and is never
removed, so within one transaction it need not be looked up twice (a distribution names a
million of them in its closing entry and again in its payouts). Keyed by the transaction
object, so nothing outlives it; forgotten at any rollback, a savepoint's included (see
:func:`_forget_after_rollback`)."""


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: Any) -> None:
    """A savepoint rolled back may have opened accounts that the transaction remembers (its
    root stays the same): forget them all, so that they are looked up again."""
    root = session.get_transaction()
    if root is not None:
        _SEEN.pop(root, None)
        _KNOWN_PLAIN.pop(root, None)


def _seen(session: Session) -> dict[str, tuple[Kind, bool]]:
    transaction = session.get_transaction()
    return _SEEN.setdefault(transaction, {}) if transaction is not None else {}


def _accounts(session: Session, codes: Collection[str]) -> Mapping[str, tuple[Kind, bool]]:
    """Kind and no-negative flag of every account that exists among ``codes`` (and of others
    the transaction has seen: the mapping is not copied, a closing entry names a million)."""
    seen = _seen(session)
    missing = [c for c in codes if c not in seen]
    if missing:
        seen.update(_look_up(session, missing))
    return seen


def _look_up(session: Session, codes: list[str]) -> dict[str, tuple[Kind, bool]]:
    table = MoneyAccount.__table__  # type: ignore[attr-defined]
    stmt = select(table.c.code, table.c.kind, table.c.no_negative)
    if len(codes) > MANY:
        wanted = set(codes)
        chart = bulk.stream_rows(session, "SELECT code, kind, no_negative FROM money_account", STREAMED)
        rows = (r for batch in chart for r in batch if r[0] in wanted)  # the memory of a batch, not of the chart
    else:
        ordered = sorted(codes)
        rows = (
            r
            for start in range(0, len(ordered), 900)
            for r in session.execute(stmt.where(table.c.code.in_(ordered[start : start + 900])))
        )
    kinds = {k.value: k for k in Kind}
    return {code: (kinds[kind], bool(no_negative)) for code, kind, no_negative in rows}


def open_accounts(session: Session, accounts: Iterable[tuple[str, Kind, str]], actor: str = "books") -> None:
    """Open many accounts at once (one event); those that exist are left as they are."""
    wanted = {code: (kind, name) for code, kind, name in accounts}
    bad = [] if _codes_well_formed(list(wanted)) else [c for c in wanted if not ACCOUNT.fullmatch(c)]
    if bad:
        raise BooksError(f"{bad[0]!r} is not an account code")
    codes = sorted(wanted)
    existing = _accounts(session, codes)
    new = [c for c in codes if c not in existing]
    if not new:
        return
    payload = accounts_opened([account_line(c, wanted[c][0].value, wanted[c][1], False) for c in new])
    seq = log.append(session, "money.accounts-opened", actor, ACCOUNTS_SUBJECT, payload).seq
    bulk.insert_rows(
        session,
        "money_account",
        ("code", "kind", "name", "no_negative", "ledger_seq"),
        ("text", "text", "text", "bool", "int8"),
        ((c, wanted[c][0].value, wanted[c][1], False, seq) for c in new),
    )
    _seen(session).update((c, (wanted[c][0], False)) for c in new)


Codes = npt.NDArray[np.bytes_]
"""Account codes as an array of ASCII bytes (numpy ``S``): a closing entry names a member
account each, and the array path below never makes a Python object per member."""

_CODE_BYTES = np.zeros(256, dtype=bool)
_CODE_BYTES[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/+-")] = True
_PLAIN_BYTES = np.ones(256, dtype=bool)
_PLAIN_BYTES[[*range(0x20), ord('"'), ord("\\")]] = False
_PLAIN_BYTES[0x80:] = False  # names beyond ASCII take the row-by-row path


def _all_of(values: Codes, allowed: npt.NDArray[np.bool_], longest: int) -> bool:
    """Every one of ``values`` is 1 to ``longest`` bytes, each of them ``allowed``."""
    if not values.size:
        return True
    matrix, used = bulk.text_piece(values)
    inside = np.arange(matrix.shape[1]) < used[:, None]
    return bool(used.min() >= 1 and used.max() <= longest and allowed[matrix[inside]].all())


def _texts(codes: Codes) -> list[str]:
    return codes.astype(np.str_).tolist()  # type: ignore[no-any-return]


_KNOWN_PLAIN: weakref.WeakKeyDictionary[Any, list[Codes]] = weakref.WeakKeyDictionary()
"""Per transaction, accounts it knows exist and are not no-negative (sorted codes): those
:func:`open_accounts_columns` opened or found, so that the entries naming them need not look
a million up again (a nation's second distribution names every member's account again)."""

STREAMED = 100_000
"""Stored accounts compared with the codes asked about this many at a time."""


def _plain_here(session: Session, codes: Codes) -> npt.NDArray[np.bool_]:
    """Which of ``codes`` this transaction knows to exist and not to be no-negative."""
    found = np.zeros(codes.size, dtype=bool)
    transaction = session.get_transaction()
    for known in _KNOWN_PLAIN.get(transaction, []) if transaction is not None and codes.size else []:
        at = np.minimum(np.searchsorted(known, codes), known.size - 1)
        found |= known[at] == codes
    return found


def _existing(session: Session, codes: Codes) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which of ``codes`` (sorted, valid) are accounts already, and which of those are
    no-negative. The stored accounts that share the codes' longest common prefix stream by a
    batch at a time, each batch looked up in ``codes`` by numpy: the memory of a batch,
    however many accounts the books hold."""
    found, guarded = _plain_here(session, codes), np.zeros(codes.size, dtype=bool)
    if not codes.size:
        return found, guarded
    first, last = bytes(codes[0]), bytes(codes[-1])
    same = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    prefix = first[:same].decode()  # valid codes: no quote; an _ matches more, which numpy drops
    sql = f"SELECT code, no_negative FROM money_account WHERE code LIKE '{prefix}%'"  # noqa: S608
    for batch in bulk.stream_rows(session, sql, STREAMED):
        stored = np.array([code.encode() for code, _ in batch], dtype=np.bytes_)
        at = np.minimum(np.searchsorted(codes, stored), codes.size - 1)
        hit = codes[at] == stored
        found[at[hit]] = True
        guarded[at[hit & np.array([bool(flag) for _, flag in batch])]] = True
    seen = _seen(session)
    if seen:  # opened row by row in this transaction: in the table already, and known here too
        known = np.array([code.encode() for code in seen], dtype=np.bytes_)
        found |= np.isin(codes, known)
        guarded |= np.isin(codes, np.array([c.encode() for c, (_, flag) in seen.items() if flag], dtype=np.bytes_))
    return found, guarded


def _know_plain(session: Session, codes: Codes) -> None:
    transaction = session.get_transaction()
    if transaction is not None and codes.size:
        _KNOWN_PLAIN.setdefault(transaction, []).append(codes)


def open_accounts_columns(session: Session, codes: Codes, kind: Kind, names: Codes, actor: str = "books") -> None:
    """:func:`open_accounts` for many accounts of one kind given as arrays (distinct codes,
    each with its name, ASCII): the same event and rows, laid out by numpy."""
    if not _all_of(codes, _CODE_BYTES, 120) or not _all_of(names, _PLAIN_BYTES, 200):
        open_accounts(session, zip(_texts(codes), [kind] * codes.size, _texts(names), strict=True), actor)
        return
    order = np.argsort(codes, kind="stable")
    codes, names = codes[order], names[order]
    if codes.size > 1 and bool(np.any(codes[1:] == codes[:-1])):
        raise BooksError("an account code is given twice")
    found, guarded = _existing(session, codes)
    plain = codes[~guarded] if guarded.any() else codes  # found or opened below
    if found.all():
        _know_plain(session, plain)
        return
    codes, names = codes[~found], names[~found]
    lines = bulk.join_rows(
        [b'["', bulk.text_piece(codes), f'","{kind.value}","'.encode(), bulk.text_piece(names), b'",false]\n'],
        codes.size,
    )
    payload: dict[str, Any] = {"count": int(codes.size), "sha256": hashlib.sha256(lines).hexdigest()}
    if codes.size <= LISTED:
        payload = accounts_opened(lines.decode().splitlines(keepends=True))
    seq = log.append(session, "money.accounts-opened", actor, ACCOUNTS_SUBJECT, payload).seq
    bulk.insert_columns(
        session,
        "money_account",
        ("code", "kind", "name", "no_negative", "ledger_seq"),
        ("text", "text", "text", "bool", "int8"),
        (codes, np.asarray(kind.value.encode()), names, False, seq),
    )
    _know_plain(session, plain)


def post_columns(
    session: Session,
    entry_id: str,
    booked_on: date,
    description: str,
    codes: Codes,
    cents: npt.NDArray[np.int64],
    actor: str,
) -> bool:
    """:func:`post` for an entry given as arrays, its postings in line order (a closing
    entry's posting per member): the same checks, event and rows, without a Python object
    per posting; whether it was written now. Anything out of the ordinary (an error to
    name, an entry recorded already, a small entry) takes :func:`post` itself."""
    cents = np.asarray(cents, dtype=np.int64)
    lines = (
        bulk.join_rows(
            [b'["', bulk.text_piece(codes), b'",', bulk.text_piece(cents.astype(np.bytes_)), b"]\n"], cents.size
        )
        if codes.size == cents.size and _all_of(codes, _CODE_BYTES, 120)
        else b""
    )
    ordinary = (
        len(lines) + 1 > LISTED_POSTINGS_BYTES  # the event carries the postings' digest
        and isinstance(entry_id, str)
        and ID.fullmatch(entry_id) is not None
        and 0 < len(description) <= 500
        and bool(np.all(cents != 0))
        and int(np.abs(cents).max()) <= MAX_CENTS
        and sum(int(cents[i : i + 4096].sum()) for i in range(0, cents.size, 4096)) == 0  # no overflow
        and session.get(MoneyEntry, entry_id) is None
    )
    if not ordinary:
        postings = tuple(Posting(a, c) for a, c in zip(_texts(codes), cents.tolist(), strict=True))
        return post(session, Entry(entry_id, booked_on, description, postings), actor)[1]
    others = sorted(set(_texts(codes[~_plain_here(session, codes)])))  # known here: not guarded
    accounts = _accounts(session, others)
    unknown = [c for c in others if c not in accounts]
    if unknown:
        raise UnknownAccount(f"unknown accounts: {', '.join(unknown[:20])}")
    guarded = [code for code in others if accounts[code][1]]  # no-negative accounts
    if guarded:
        now = _totals(session, guarded)
        for code in guarded:
            delta = int(cents[codes == code.encode()].sum())
            if natural(accounts[code][0], now.get(code, 0) + delta) < 0:
                raise WouldGoNegative(f"account {code} would go below zero")
    recorded_postings = {"count": int(cents.size), "sha256": hashlib.sha256(lines).hexdigest()}
    payload = {
        "id": entry_id,
        "booked_on": booked_on.isoformat(),
        "description": description,
        "postings": recorded_postings,
    }
    event = log.append(session, "money.entry", actor, f"entry:{entry_id}", payload)
    session.add(MoneyEntry(id=entry_id, booked_on=booked_on, description=description, ledger_seq=event.seq))
    session.flush()
    bulk.insert_columns(
        session,
        "money_posting",
        ("entry_id", "line", "account", "amount_cents"),
        ("text", "int4", "text", "int8"),
        (np.asarray(entry_id.encode()), np.arange(cents.size, dtype=np.int64), codes, cents),
    )
    return True


def recorded(session: Session, entry_id: str) -> Entry | None:
    row = session.get(MoneyEntry, entry_id)
    if row is None:
        return None
    postings = session.execute(
        select(col(MoneyPosting.account), col(MoneyPosting.amount_cents))
        .where(col(MoneyPosting.entry_id) == entry_id)
        .order_by(col(MoneyPosting.line))
    ).all()
    return Entry(row.id, row.booked_on, row.description, tuple(Posting(a, int(c)) for a, c in postings))


def post(session: Session, entry: Entry, actor: str) -> tuple[Entry, bool]:
    """Record a balanced entry; returns it and whether it was written now."""
    errors = entry_errors(entry)
    if errors:
        whole = all(type(p.amount_cents) is int for p in entry.postings)
        unbalanced = whole and len(entry.postings) >= 2 and sum(p.amount_cents for p in entry.postings) != 0
        raise (Unbalanced if unbalanced and len(errors) == 1 else BooksError)("; ".join(errors))
    earlier = recorded(session, entry.id)
    if earlier is not None:
        mine, theirs = entry.content(), earlier.content()
        differing = sorted(k for k in mine if mine[k] != theirs[k])
        if differing:
            raise EntryConflict(entry.id, differing, earlier)
        return earlier, False
    named = {p.account for p in entry.postings}
    accounts = _accounts(session, named)
    unknown = sorted(named - accounts.keys())
    if unknown:
        raise UnknownAccount(f"unknown accounts: {', '.join(unknown[:20])}")
    guarded = [code for code in named if accounts[code][1]]  # no-negative accounts
    if guarded:
        now = _totals(session, guarded)
        for code in guarded:
            delta = sum(p.amount_cents for p in entry.postings if p.account == code)
            if natural(accounts[code][0], now.get(code, 0) + delta) < 0:
                raise WouldGoNegative(f"account {code} would go below zero")
    event = log.append(session, "money.entry", actor, f"entry:{entry.id}", entry_payload(entry))
    session.add(MoneyEntry(id=entry.id, booked_on=entry.booked_on, description=entry.description, ledger_seq=event.seq))
    session.flush()
    bulk.insert_rows(
        session,
        "money_posting",
        ("entry_id", "line", "account", "amount_cents"),
        ("text", "int4", "text", "int8"),
        ((entry.id, i, p.account, p.amount_cents) for i, p in enumerate(entry.postings)),
    )
    return entry, True


def reverse(session: Session, entry_id: str, new_id: str, booked_on: date, actor: str) -> tuple[Entry, bool]:
    """A correction: a new entry with every posting of ``entry_id`` negated."""
    original = recorded(session, entry_id)
    if original is None:
        raise UnknownAccount(f"no entry {entry_id}")
    postings = tuple(Posting(p.account, -p.amount_cents) for p in original.postings)
    return post(session, Entry(new_id, booked_on, f"reversal of {entry_id}", postings), actor)


def natural(kind: Kind, debit_balance: int) -> int:
    """A balance in the account's natural sign."""
    return debit_balance if kind in DEBIT_NORMAL else -debit_balance


def _totals(session: Session, codes: list[str] | None = None, at: date | None = None) -> dict[str, int]:
    """Debit-positive sums per account (of ``codes``, or all), over entries booked by ``at``."""
    stmt = select(col(MoneyPosting.account), func.sum(col(MoneyPosting.amount_cents))).group_by(
        col(MoneyPosting.account)
    )
    if codes is not None:
        stmt = stmt.where(col(MoneyPosting.account).in_(codes))
    if at is not None:  # only a date needs the entries; all-time sums read the postings alone
        stmt = stmt.join(MoneyEntry, col(MoneyEntry.id) == col(MoneyPosting.entry_id)).where(
            col(MoneyEntry.booked_on) <= at
        )
    return {a: int(total) for a, total in session.execute(stmt).all()}


def balances(session: Session, at: date | None = None) -> dict[str, tuple[Kind, int]]:
    """Every account with its natural-sign balance from entries booked on or before ``at``."""
    accounts = {a.code: Kind(a.kind) for a in session.execute(select(MoneyAccount)).scalars()}
    totals = _totals(session, at=at)
    return {code: (kind, natural(kind, totals.get(code, 0))) for code, kind in sorted(accounts.items())}
