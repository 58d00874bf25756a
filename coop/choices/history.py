"""What changed from one version of a member's choices to the next, and how to say it.

The portal's history page and the yearly statement both show a member their versions; both
take what changed, and its words, from here, so they never tell it differently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from coop.carers.models import carer_label
from coop.choices.encoding import PAIRS, Preference, get
from coop.i18n import translator, word
from coop.members.models import member_number
from coop.vocabulary.terms import CATEGORIES, PURPOSES, USER_TYPES, Category, Purpose, UserType, from_mask, in_sentence


class Version(Protocol):
    """A version as its reader sees it: a stored version, or a proxy's view of one."""

    @property
    def version(self) -> int: ...
    @property
    def is_member(self) -> bool: ...
    @property
    def opt_out(self) -> bool: ...
    @property
    def excluded_mask(self) -> int: ...
    @property
    def preference_mask(self) -> int: ...
    @property
    def donate_dividend(self) -> bool | None: ...
    @property
    def acting_proxy_id(self) -> int | None: ...
    @property
    def acting_carer_id(self) -> int | None: ...
    @property
    def sensitive_yes_mask(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PreferenceChange:
    """A member's preference for a purpose changed; ``user_type`` None: for every kind of user
    that may have one, alike."""

    purpose: Purpose
    user_type: UserType | None
    before: Preference
    after: Preference


@dataclass(frozen=True, slots=True)
class Difference:
    """What one version changed from the one before it."""

    started: bool = False
    """The first version: the member was admitted, and the mandate decided everything."""
    left: bool = False
    opt_out: bool | None = None
    """The new opt-out when it changed."""
    preferences: tuple[PreferenceChange, ...] = ()
    excluded: tuple[Category, ...] = ()
    """Kinds of data the member stopped sharing."""
    included: tuple[Category, ...] = ()
    """Kinds of data the member shares again."""
    yes_given: tuple[Category, ...] = ()
    """Sensitive kinds of data the member gave their own yes for."""
    yes_withdrawn: tuple[Category, ...] = ()
    """Sensitive kinds of data the member withdrew their own yes for."""
    donate_dividend: bool | None = None
    """The new choice about the dividend when it changed."""
    by_proxy: int | None = None
    """The proxy who made the change for the member."""
    by_carer: int | None = None
    """The carer (not a member) who made the change for the member, as their proxy."""


def difference(before: Version | None, after: Version) -> Difference:
    """What ``after`` changed from ``before`` (None: ``after`` is the first version)."""
    if before is None:
        return Difference(started=after.version == 1, by_proxy=after.acting_proxy_id, by_carer=after.acting_carer_id)
    was, now = from_mask(Category, before.excluded_mask), from_mask(Category, after.excluded_mask)
    donate = after.donate_dividend
    had, has = from_mask(Category, before.sensitive_yes_mask), from_mask(Category, after.sensitive_yes_mask)
    return Difference(
        left=before.is_member and not after.is_member,
        opt_out=after.opt_out if after.opt_out != before.opt_out else None,
        preferences=_preferences(before.preference_mask, after.preference_mask),
        excluded=tuple(c for c in now if c not in was),
        included=tuple(c for c in was if c not in now),
        yes_given=tuple(c for c in has if c not in had),
        yes_withdrawn=tuple(c for c in had if c not in has),
        donate_dividend=donate if donate is not None and before.donate_dividend not in (None, donate) else None,
        by_proxy=after.acting_proxy_id,
        by_carer=after.acting_carer_id,
    )


def differences(versions: Sequence[Version]) -> list[Difference]:
    """What each of ``versions`` (oldest first, consecutive) changed from the one before."""
    return [difference(versions[i - 1] if i else None, v) for i, v in enumerate(versions)]


def _preferences(before: int, after: int) -> tuple[PreferenceChange, ...]:
    changed = [(p, u, get(before, p, u), get(after, p, u)) for p, u in PAIRS if get(before, p, u) != get(after, p, u)]
    out: list[PreferenceChange] = []
    for purpose in Purpose:
        mine = [c for c in changed if c[0] is purpose]
        if len(mine) > 1 and len({(b, a) for _, _, b, a in mine}) == 1:
            out.append(PreferenceChange(purpose, None, mine[0][2], mine[0][3]))  # one line for the purpose
        else:
            out += [PreferenceChange(p, u, b, a) for p, u, b, a in mine]
    return tuple(out)


def in_words(change: Difference, lang: str, carers: Mapping[int, str] | None = None) -> list[str]:
    """The change as sentences in ``lang``, the most important first. ``carers``: the names of
    the carers who acted, for the member who appointed them (else their carer numbers)."""
    t = translator(lang)
    lines: list[str] = []
    if change.started:
        lines.append(t("change_started"))
    if change.left:
        lines.append(t("change_left"))
    if change.opt_out is not None:
        lines.append(t("change_opted_out") if change.opt_out else t("change_opted_in"))
    for p in change.preferences:
        purpose = in_sentence(str(getattr(PURPOSES[p.purpose], lang)))
        before, after = word(p.before.value, lang), word(p.after.value, lang)
        if p.user_type is None:
            lines.append(t("change_preference_everyone", purpose=purpose, before=before, after=after))
        else:
            user_type = in_sentence(str(getattr(USER_TYPES[p.user_type], lang)))
            lines.append(t("change_preference", purpose=purpose, user_type=user_type, before=before, after=after))
    if change.excluded:
        lines.append(t("change_excluded", categories=_categories(change.excluded, lang)))
    if change.included:
        lines.append(t("change_included", categories=_categories(change.included, lang)))
    if change.yes_given:
        lines.append(t("change_sensitive_yes", categories=_categories(change.yes_given, lang)))
    if change.yes_withdrawn:
        lines.append(t("change_sensitive_no", categories=_categories(change.yes_withdrawn, lang)))
    if change.donate_dividend is not None:
        lines.append(t("change_donates") if change.donate_dividend else t("change_keeps_dividend"))
    if not lines:
        lines.append(t("change_none_visible"))
    if change.by_proxy is not None:
        lines.append(t("change_by_proxy", number=member_number(change.by_proxy)))
    if change.by_carer is not None:
        name = (carers or {}).get(change.by_carer) or carer_label(change.by_carer)
        lines.append(t("change_by_carer", name=name))
    return lines


def _categories(categories: Sequence[Category], lang: str) -> str:
    return ", ".join(in_sentence(str(getattr(CATEGORIES[c], lang))) for c in categories)
