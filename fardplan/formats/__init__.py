"""Date and time formats of the Swedish user interface (see docs/sprakguide.md)."""
