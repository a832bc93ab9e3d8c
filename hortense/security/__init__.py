"""Security building blocks shared by the channels and the web app (rate limits, webhook replay protection)."""
