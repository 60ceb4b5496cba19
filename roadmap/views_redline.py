from django.http import Http404


# Placeholders until the redline is written.
def redline_view(request, *args, **kwargs):  # pragma: no cover
    raise Http404


redline_csv_view = redline_view
