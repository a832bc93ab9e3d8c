"""How Hortense converses: several questions in one message, follow-ups, yes/no, manners (pure, no I/O)."""
