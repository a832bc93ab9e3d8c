"""Security: who is talking (`identity`: the portal's JWT and the assertion a connector hands to the actions;
`caller`: the customer resolved on every turn), signed, expiring URLs (`signing`), the one-time codes that link
a messaging account (`link_codes`), the redaction of secrets typed in chat (`redaction`), and the building
blocks shared by the channels and the web app: rate limits (`rate_limit`) and webhook replay protection
(`replay`), in Redis when it is configured."""
