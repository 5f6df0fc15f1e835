"""tidecast: a self-hosted streaming engine speaking the Ace Stream engine HTTP API."""

__version__ = "0.1.0"
