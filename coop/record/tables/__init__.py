"""Which events make which of the cooperative's tables, and how each row implies its events.

One :class:`~coop.record.rows.Table` per table of the record. The tables with a row
per member (members, their choices, invitations, logins, votes) and the books are read
with bare SQL and rebuilt with string formatting, because a cooperative has millions of
those rows; the others are read through SQLAlchemy and rebuilt with the services' own
payload functions. Rules that tie rows to each other rather than to one event (a choice
version ends when the next begins; an invitation is withdrawn when the next is issued) are
checked here too.
"""

from coop.record.tables.access import AccessRecords
from coop.record.tables.approvals import BoardApprovals
from coop.record.tables.governance import GovernanceDocuments, Proposals, Votes
from coop.record.tables.members import ApiKeys, ChoiceVersions, Invitations, Members, UserAccounts
from coop.record.tables.money import Distributions, MoneyAccounts, MoneyEntries
from coop.record.tables.permits import Consultations, Manifests, Permits, Results, Usage
from coop.record.tables.proxies import Carers, ProxyAppointments

__all__ = [
    "AccessRecords",
    "ApiKeys",
    "BoardApprovals",
    "Carers",
    "ChoiceVersions",
    "Consultations",
    "Distributions",
    "GovernanceDocuments",
    "Invitations",
    "Manifests",
    "Members",
    "MoneyAccounts",
    "MoneyEntries",
    "Permits",
    "Proposals",
    "ProxyAppointments",
    "Results",
    "Usage",
    "UserAccounts",
    "Votes",
]
