"""GDPR/CNIL rights and retention: what Hortense keeps about a customer, for how long, and who looked at it.

- `transcripts`: the conversations in Rasa's tracker store (read for an export, deleted for an erasure or when
  they are older than the retention period);
- `audit`: the privacy audit (every advisor view of a transcript, every export and erasure, every retention run);
- `rights`: a customer's conversations and personal data, exported or erased (console, CLI, customer space);
- `retention`: the daily job that deletes or anonymises what is older than HORTENSE_TRANSCRIPT_RETENTION_DAYS.
"""
