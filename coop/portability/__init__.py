"""A member's right of access and to data portability (GDPR Art. 15 and 20): everything the
cooperative keeps about them in one JSON file with a published, versioned JSON Schema, and a
readable PDF summary of it in their language."""
