"""The hit list's download: its filtered hits as CSV or JSON lines, streamed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)

from lambdactr_django import days
from lambdactr_django.conf import conf
from lambdactr_django.stats import export

if TYPE_CHECKING:
    from lambdactr_django.admin.hit_list import HeaderHitAdmin

FORMATS: dict[str, tuple[Callable[[Iterable[dict[str, Any]]], Iterator[str]], str, str]] = {
    "csv": (export.csv_lines, "text/csv; charset=utf-8", "csv"),
    "jsonl": (export.json_lines, "application/jsonl; charset=utf-8", "jsonl"),
}


def export_view(
    model_admin: HeaderHitAdmin, request: HttpRequest, file_format: str
) -> HttpResponseBase:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    if file_format not in FORMATS:
        return HttpResponse(status=404)
    try:
        hits = model_admin.filtered_hits(request)
    except IncorrectLookupParameters:
        return HttpResponseRedirect(model_admin.url("changelist") + "?e=1")
    limit = conf.EXPORT_MAX_ROWS
    if limit is not None and hits[: limit + 1].count() > limit:
        # A download cut by the server's worker timeout looks complete; refuse
        # one that may not finish in time, and say what does.
        model_admin.message_user(
            request,
            f"This download would hold more than {limit:,} hits, more than a web server's "
            "timeout may let through. Narrow the filters, or run "
            "manage.py lambdactr_export FILE (with --site, --since, --until).",
            level=messages.ERROR,
        )
        query = request.GET.urlencode()
        return HttpResponseRedirect(model_admin.url("changelist") + (f"?{query}" if query else ""))
    lines, content_type, extension = FORMATS[file_format]
    response = StreamingHttpResponse(lines(export.rows(hits)), content_type=content_type)
    filename = f"hits-{days.today():%Y%m%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
