"""Every table, imported in one place so Alembic and the application see the same schema."""

from coop.auth.models import ApiKey, UserAccount
from coop.governance.models import GovernanceDocument
from coop.members.models import Invitation, Member
from ledger.models import LedgerEvent, LedgerNode, LedgerTreeHead

__all__ = [
    "ApiKey",
    "GovernanceDocument",
    "Invitation",
    "LedgerEvent",
    "LedgerNode",
    "LedgerTreeHead",
    "Member",
    "UserAccount",
]
