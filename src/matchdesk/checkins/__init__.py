"""Check-ins: report and revenue meetings of a creator with their manager, booked in both
people's hours (SPEC section 6)."""
