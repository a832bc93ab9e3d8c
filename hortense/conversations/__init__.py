"""Conversations as the tracker store keeps them: reading, review, analytics."""
