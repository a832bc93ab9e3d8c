"""Security: who is talking (`identity`: the portal's JWT and the assertion a connector hands to the actions;
`caller`: the customer resolved on every turn), signed, expiring URLs (`signing`), the one-time codes that link
a messaging account (`link_codes`), and the redaction of secrets typed in chat (`redaction`)."""
