"""What changed between two versions of a member's choices, as the history page and the
statement both tell it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from coop.choices import encoding
from coop.choices.encoding import Preference
from coop.choices.history import Difference, PreferenceChange, difference, differences, in_words
from coop.i18n import local_time
from coop.vocabulary.terms import Category, Purpose, UserType, mask


@dataclass(frozen=True)
class V:
    version: int = 1
    is_member: bool = True
    opt_out: bool = False
    excluded_mask: int = 0
    preference_mask: int = 0
    donate_dividend: bool | None = False
    acting_proxy_id: int | None = None
    acting_carer_id: int | None = None
    sensitive_yes_mask: int = 0


def test_a_first_version_starts_and_a_change_says_only_what_changed() -> None:
    first = V()
    denied = encoding.put(0, Purpose.research, UserType.commercial, Preference.deny)
    second = V(version=2, preference_mask=denied, excluded_mask=mask([Category.genetic]), donate_dividend=True)
    third = V(version=3, preference_mask=denied, opt_out=True, donate_dividend=True, acting_proxy_id=7)
    assert differences([first, second, third]) == [
        Difference(started=True),
        Difference(
            preferences=(PreferenceChange(Purpose.research, UserType.commercial, Preference.mandate, Preference.deny),),
            excluded=(Category.genetic,),
            donate_dividend=True,
        ),
        Difference(opt_out=True, included=(Category.genetic,), by_proxy=7),
    ]
    assert in_words(difference(second, third), "en") == [
        "You opted out.",
        "You share again: genetic and genomic data.",
        "Made by your proxy M-000007.",
    ]


def test_a_yes_for_sensitive_data_given_and_taken_back_is_told() -> None:
    given = V(version=2, sensitive_yes_mask=mask([Category.genetic, Category.biobanks]))
    changed = V(version=3, sensitive_yes_mask=mask([Category.biobanks, Category.omics]))
    change = difference(given, changed)
    assert (change.yes_given, change.yes_withdrawn) == ((Category.omics,), (Category.genetic,))
    assert difference(V(), given).yes_given == (Category.genetic, Category.biobanks)
    assert in_words(change, "en") == [
        "You gave your own yes for sensitive data: other -omics data.",
        "You took back your own yes for sensitive data: genetic and genomic data.",
    ]
    assert in_words(change, "nl")[0].startswith("U gaf uw eigen ja voor gevoelige gegevens: ")


def test_a_purpose_changed_alike_for_every_user_is_one_line() -> None:
    proxied = 0
    for user_type in UserType:
        proxied = encoding.put(proxied, Purpose.research, user_type, Preference.proxy)
    change = difference(V(), V(version=2, preference_mask=proxied))
    assert change.preferences == (PreferenceChange(Purpose.research, None, Preference.mandate, Preference.proxy),)
    assert in_words(change, "nl") == [
        "Voor wetenschappelijk onderzoek, door elke soort gebruiker: "
        "eerst 'De coöperatie beslist', nu 'Mijn gevolmachtigde beslist'."
    ]


def test_a_proxy_sees_no_dividend_change() -> None:
    assert difference(V(donate_dividend=None), V(version=2, donate_dividend=None)) == Difference()
    assert in_words(Difference(), "en") == ["No change you can see."]


def test_times_are_written_on_the_dutch_clock_and_say_so() -> None:
    winter, summer = datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert local_time(winter, "nl") == "15 januari 2026, 13:00 Nederlandse tijd (CET)"
    assert local_time(summer, "nl") == "15 juli 2026, 14:00 Nederlandse tijd (CEST)"
    assert local_time(summer, "en") == "15 July 2026, 14:00 Amsterdam time (CEST)"
