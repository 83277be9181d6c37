"""matchdesk: run a creator LIVE match program."""

__version__ = "0.1.0"
