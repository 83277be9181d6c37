"""The creator portal: signed, expiring links through which a creator sees their own
figures and matches and edits their weekly availability."""
