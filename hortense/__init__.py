"""Hortense's domain layer: plain Python, no Rasa imports, testable on its own."""
