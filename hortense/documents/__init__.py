"""Customer documents: `pdf` renders them, `verification` issues and checks their authenticity codes, and
`urls` builds the signed, expiring web-app URLs a customer downloads them from (and those of the bank-details
form and the consumption and surplus charts).

Nothing is re-exported here, so that the verification page does not load reportlab just to check a code.
"""
