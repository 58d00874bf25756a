"""Who looked at a member's data: every read of a member's personal data by anyone other than
the member, recorded in the ledger of record and shown to the member (GDPR Art. 15)."""
