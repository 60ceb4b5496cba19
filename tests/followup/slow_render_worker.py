"""A Celery worker whose PDF rendering never ends: the real worker, the real
task and the real heartbeat, with WeasyPrint replaced by a function that sleeps
(``followup.reports.render.html_to_pdf``). For the test that kills a worker
mid-render (test_worker_killed.py), which needs a rendering that is certainly
still running when the worker dies. Only the tests start it; nothing in the
app knows about it.

    python -m tests.followup.slow_render_worker -A fardplan worker --pool=solo ...
"""

import os
import sys
import time

# How long the stand-in renderer sleeps: far longer than any test waits.
RENDER_SECONDS = 600


def _never_ending_html_to_pdf(html: str):
    time.sleep(RENDER_SECONDS)
    raise RuntimeError("the slow test renderer ran out of time")


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")
    django.setup()
    from celery.__main__ import main

    from followup.reports import render

    render.html_to_pdf = _never_ending_html_to_pdf
    sys.argv[0] = "celery"
    sys.exit(main())
