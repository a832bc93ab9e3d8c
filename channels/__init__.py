"""Rasa input channels (connectors) of Hortense; each one establishes who is talking before Rasa sees a message."""
