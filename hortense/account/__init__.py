"""The customer account: customers and contracts as frozen views (`customers`), what each offer gives access
to (`offers`), and the link between a messaging sender and a customer, made with a one-time code
(`linking`; the codes themselves are `hortense.security.link_codes`)."""
