"""Swedish date and time formats for text shown to users (docs/sprakguide.md):
"10 maj 2022", "10 maj 2022 kl. 14.30". Django's own Swedish formats give the
rest (decimal comma, input formats). Machine-readable values (the datetime
attribute of <time>, CSV and Excel exports) stay ISO 8601."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = r"j F Y \k\l. H.i"
TIME_FORMAT = "H.i"
