"""Local stand-ins for third-party services, so end-to-end tests run offline and can see what was sent."""
