from __future__ import annotations

import csv
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django import days, stats
from lambdactr_django.stats import Traffic, rollups
from lambdactr_django.stats.export import neutralise


class Command(BaseCommand):
    help = (
        "Print the statistics the admin's statistics page shows, for the last N days "
        "(today included, days in LAMBDACTR_TIME_ZONE or TIME_ZONE): views and visitors, "
        "per day, top pages, referrer hosts, browsers, operating systems, devices, and the "
        "share of bots and prefetches. Only hits with a valid signature are counted, as in "
        "the admin's default view. Visitors are browsers counted once a day each, summed "
        "over the days; they belong to a site, not to a page or referrer, so those show "
        "none ('-' in text, empty in CSV, null in JSON)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=7, help="How many days, ending today (default: 7)."
        )
        parser.add_argument("--site", help="Only this site (host name, as the hit list shows).")
        parser.add_argument(
            "--traffic",
            choices=list(Traffic.LABELS),
            default=Traffic.HUMAN,
            help="Which hits to count: human (default), bot, prefetch or all.",
        )
        parser.add_argument(
            "--format",
            dest="output_format",
            choices=["text", "csv", "json"],
            default="text",
            help="text for people (default), csv (section,label,views,visitors) or json.",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=stats.TOP_ROWS,
            help=f"Rows in each top list (default: {stats.TOP_ROWS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        start, end = days.last_days(options["days"])
        rollups.catch_up(start, end, most=rollups.LAZY_DAYS)
        report = stats.report_for(
            site=options["site"],
            start=start,
            end=end,
            traffic=options["traffic"],
            limit=options["limit"],
        )
        {"text": self._text, "csv": self._csv, "json": self._json}[options["output_format"]](report)

    def _json(self, report: stats.Report) -> None:
        self.stdout.write(json.dumps(report.to_dict(), indent=2, default=str))

    def _csv(self, report: stats.Report) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["section", "label", "views", "visitors"])
        for section, label, views, visitors in _lines(report):
            writer.writerow(
                [section, neutralise(label), views, "" if visitors is None else visitors]
            )

    def _text(self, report: stats.Report) -> None:
        self.stdout.write(
            f"{report.start} to {report.end}, counting {Traffic.LABELS[report.traffic]}: "
            f"{report.views} views, {report.visitors} visitors"
        )
        current = ""
        for section, label, views, visitors in _lines(report):
            if section == "total":
                continue
            if section != current:
                current = section
                self.stdout.write(f"\n{_TITLES[section]:<48} {'views':>9} {'visitors':>9}")
            shown = "-" if visitors is None else visitors
            self.stdout.write(f"  {label or '(unknown)':<46} {views:>9} {shown:>9}")


_TITLES = {
    "day": "Per day",
    "page": "Top pages",
    "referrer": "Top referrer hosts",
    "browser": "Browsers",
    "os": "Operating systems",
    "device": "Devices",
    "traffic": "Traffic (every class)",
    "bot_reason": "Bots by reason",
}


def _lines(report: stats.Report) -> list[tuple[str, str, int, int | None]]:
    lines: list[tuple[str, str, int, int | None]] = [("total", "", report.views, report.visitors)]
    lines += [("day", d.day.isoformat(), d.views, d.visitors) for d in report.days]
    for section, rows in (
        ("page", report.pages),
        ("referrer", report.referrers),
        ("browser", report.browsers),
        ("os", report.systems),
        ("device", report.devices),
        ("traffic", report.traffic_classes),
        ("bot_reason", report.bot_reasons),
    ):
        lines += [(section, row.label, row.views, row.visitors) for row in rows]
    return lines
