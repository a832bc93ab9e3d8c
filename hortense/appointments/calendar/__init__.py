"""Calendar logic for call-back bookings: phrase parsing and slot rules, pure Python."""
