"""Figures on how Hortense is doing, from the tracker store and the database."""
