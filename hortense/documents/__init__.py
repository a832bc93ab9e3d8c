"""Customer documents: `pdf` renders them, `verification` issues and checks their authenticity codes.

Nothing is re-exported here, so that the verification page does not load reportlab just to check a code.
"""
