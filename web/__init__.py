"""The Hortense web app: customer-space demo with the chat widget, documents, bank-details form, charts and the
advisors' console. `web.app.create_app()` assembles it; nothing happens at import time."""
