"""The follow-up's PDF reports.

- ``params``: what a report is of (kind, year, period, organisation), validated
  the same way for the web form, the command and the task.
- ``data``: reads the data of one report into plain dataclasses (selectors).
- ``charts``: the small SVG charts of status distributions.
- ``render``: a pure function from that data to PDF bytes (WeasyPrint).

The jobs that run them (``ReportJob``) are written by ``followup.services``.
"""
