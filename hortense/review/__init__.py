"""The supervisors' review of messages Hortense did not understand, and its export to training data."""
