from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from lambdactr_django import days, stats
from tests.hits import make_hit

pytestmark = pytest.mark.django_db


def _mixed() -> None:
    make_hit(path="/a/", referrer="https://news.example/x", referrer_host="news.example")
    make_hit(path="/a/", referrer="https://news.example/y", referrer_host="news.example")
    make_hit(path="/b/", browser="Firefox", os="Ubuntu")
    make_hit(kind="visitor", path="")
    make_hit(kind="visitor", path="", browser="Mobile Safari", os="iOS", device="mobile")
    make_hit(is_bot=True, bot_reason="crawler", browser="Googlebot", device="bot")
    make_hit(is_bot=True, bot_reason="no-lang")
    make_hit(prefetch="prerender")
    make_hit(is_bot=True, bot_reason="crawler", prefetch="prefetch")
    make_hit(days_ago=3, path="/old/")


def test_people_are_counted_by_default() -> None:
    _mixed()
    report = stats.report(stats.select(start=days.today(), end=days.today()))
    assert (report.views, report.visitors, report.hits) == (3, 2, 5)


def test_traffic_classes_partition_the_hits() -> None:
    _mixed()
    every = stats.select(start=days.today(), end=days.today())
    counts = {
        t: stats.of_traffic(every, t).count()
        for t in (stats.Traffic.HUMAN, stats.Traffic.BOT, stats.Traffic.PREFETCH)
    }
    assert counts == {"human": 5, "bot": 3, "prefetch": 1}
    assert sum(counts.values()) == every.count()


@pytest.mark.parametrize(
    ("traffic", "views", "visitors"), [("bot", 3, 0), ("prefetch", 1, 0), ("all", 7, 2)]
)
def test_other_traffic_on_request(traffic: str, views: int, visitors: int) -> None:
    _mixed()
    report = stats.report(stats.select(start=days.today(), end=days.today()), traffic)
    assert (report.views, report.visitors) == (views, visitors)


def test_breakdowns() -> None:
    _mixed()
    report = stats.report(stats.select(start=days.today(), end=days.today()))
    assert [(r.label, r.views) for r in report.pages] == [
        ("blog.example/a/", 2),
        ("blog.example/b/", 1),
    ]
    assert report.pages[0].lookups == {"site": "blog.example", "path": "/a/"}
    assert [(r.label, r.views) for r in report.referrers] == [("news.example", 2)]
    assert [(r.label, r.views, r.visitors) for r in report.browsers] == [
        ("Chrome", 2, 1),
        ("Firefox", 1, 0),
        ("Mobile Safari", 0, 1),
    ]
    assert [(r.label, r.views, r.visitors) for r in report.devices] == [
        ("desktop", 3, 1),
        ("mobile", 0, 1),
    ]


def test_the_share_of_bots_ignores_the_traffic_chosen() -> None:
    _mixed()
    report = stats.report(stats.select(start=days.today(), end=days.today()), stats.Traffic.HUMAN)
    assert [(r.label, r.views, r.visitors) for r in report.traffic_classes] == [
        ("people", 3, 2),
        ("bots", 3, 0),
        ("prefetches", 1, 0),
    ]
    assert [(r.label, r.views) for r in report.bot_reasons] == [("crawler", 2), ("no-lang", 1)]


def test_limit_cuts_top_lists() -> None:
    _mixed()
    report = stats.report(stats.select(), limit=1)
    assert len(report.pages) == 1


def test_every_day_of_the_range_is_in_the_series() -> None:
    make_hit(days_ago=0)
    make_hit(days_ago=0, kind="visitor")
    make_hit(days_ago=2)
    start, end = days.last_days(4)
    report = stats.report(stats.select(start=start, end=end), start=start, end=end)
    assert [(d.day, d.views, d.visitors) for d in report.days] == [
        (start, 0, 0),
        (start + dt.timedelta(days=1), 1, 0),
        (start + dt.timedelta(days=2), 0, 0),
        (end, 1, 1),
    ]
    assert sum(d.views for d in report.days) == report.views


def test_without_range_the_series_spans_the_data() -> None:
    make_hit(days_ago=5)
    make_hit(days_ago=1)
    series = stats.report(stats.select()).days
    assert len(series) == 5
    assert series[0].views == series[-1].views == 1


def test_no_hits_no_series() -> None:
    assert stats.report(stats.select()).days == []


@override_settings(TIME_ZONE="UTC", LAMBDACTR_TIME_ZONE="America/New_York")
def test_days_are_split_at_the_sites_midnight() -> None:
    # 03:00 UTC on 10 Jan is still 9 Jan in New York.
    make_hit(when=dt.datetime(2025, 1, 10, 3, 0, tzinfo=dt.UTC))
    series = stats.per_day(stats.select())
    assert [d.day for d in series] == [dt.date(2025, 1, 9)]
    assert stats.select(start=dt.date(2025, 1, 9), end=dt.date(2025, 1, 9)).count() == 1
    assert stats.select(start=dt.date(2025, 1, 10)).count() == 0


def test_select_filters() -> None:
    make_hit(site="a.example")
    make_hit(site="b.example", kind="visitor")
    make_hit(site="a.example", verified=False)
    assert stats.select(site="a.example").count() == 1
    assert stats.select(kind="visitor").count() == 1
    assert stats.select(verified=None).count() == 3


def test_to_dict_carries_the_totals() -> None:
    make_hit()
    data = stats.report(stats.select()).to_dict()
    assert (data["views"], data["visitors"], data["hits"]) == (1, 0, 1)
    assert data["pages"][0]["label"] == "blog.example/"
