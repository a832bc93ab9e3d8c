"""Thin Rasa actions: resolve the caller, call the domain layer (hortense), send the French answer."""
