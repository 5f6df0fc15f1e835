"""The device API (seed 002): Laravel/Scribe-style JSON for the browser extension and apps."""
