from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.test import Client

from lambdactr_django.models import HeaderHit
from tests.hits import make_hit

pytestmark = pytest.mark.django_db

STATISTICS = "/admin/lambdactr_django/headerhit/statistics/"
EXPORT = "/admin/lambdactr_django/headerhit/export/"
HIT_LIST = "/admin/lambdactr_django/headerhit/"


def _data() -> None:
    for days_ago in range(10):
        make_hit(days_ago=days_ago, path=f"/p{days_ago % 3}/")
        make_hit(days_ago=days_ago, kind="visitor", path="")
    make_hit(
        site="other.example",
        path="/x/",
        referrer="https://ref.example/",
        referrer_host="ref.example",
    )
    make_hit(is_bot=True, bot_reason="crawler", browser="Googlebot", device="bot")
    make_hit(prefetch="prefetch")
    make_hit(days_ago=20)
    make_hit(verified=False)


def _export_rows(client: Client, file_format: str, query: str) -> list[dict[str, str]]:
    response = client.get(f"{EXPORT}{file_format}/?{query}")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    if file_format == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines()]


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    call_command("lambdactr_report", "--format", "json", *args)
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("query", "command_args"),
    [
        ("when=7d", ["--days", "7"]),
        ("when=30d&site=blog.example", ["--days", "30", "--site", "blog.example"]),
        ("when=7d&traffic=bot", ["--days", "7", "--traffic", "bot"]),
        ("when=today&traffic=all", ["--days", "1", "--traffic", "all"]),
    ],
)
def test_admin_report_and_export_agree(
    admin_client: Client,
    capsys: pytest.CaptureFixture[str],
    query: str,
    command_args: list[str],
) -> None:
    _data()
    page = admin_client.get(f"{STATISTICS}?{query}").context["report"].to_dict()
    printed = _report(capsys, *command_args)
    # JSON turns dates into strings; compare through it.
    assert json.loads(json.dumps(page, default=str)) == printed
    views = _export_rows(admin_client, "csv", f"{query}&kind__exact=view")
    visitors = _export_rows(admin_client, "jsonl", f"{query}&kind__exact=visitor")
    everything = _export_rows(admin_client, "csv", query)
    assert (len(views), len(visitors), len(everything)) == (
        printed["views"],
        printed["visitors"],
        printed["hits"],
    )


def test_the_page_shows_totals_chart_and_table(admin_client: Client) -> None:
    _data()
    response = admin_client.get(f"{STATISTICS}?when=7d")
    assert response.status_code == 200
    html = response.content.decode()
    report = response.context["report"]
    assert (report.views, report.visitors) == (8, 7)
    assert '<svg class="lambdactr-chart"' in html
    assert "<caption>Views and visitors per day</caption>" in html
    assert "<script" not in html.split('id="content-main"')[1]


def test_the_page_honours_the_hit_list_filters(admin_client: Client) -> None:
    _data()
    report = admin_client.get(f"{STATISTICS}?site=other.example").context["report"]
    assert (report.views, report.visitors) == (1, 0)
    assert [r.label for r in report.referrers] == ["ref.example"]


def test_numbers_link_to_the_filtered_hit_list(admin_client: Client) -> None:
    _data()
    html = admin_client.get(f"{STATISTICS}?when=7d").content.decode()
    assert f'href="{HIT_LIST}?when=7d&amp;kind__exact=view"' in html
    assert (
        f'href="{HIT_LIST}?when=7d&amp;kind__exact=view&amp;site=blog.example&amp;path=%2Fp0%2F"'
        in html
    )
    listed = admin_client.get(f"{HIT_LIST}?when=7d&site=blog.example&path=/p0/&kind__exact=view")
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 3


def test_the_hit_list_links_to_statistics_and_exports(admin_client: Client) -> None:
    html = admin_client.get(f"{HIT_LIST}?when=7d").content.decode()
    assert f'href="{STATISTICS}?when=7d"' in html
    assert f'href="{EXPORT}csv/?when=7d"' in html
    assert f'href="{EXPORT}jsonl/?when=7d"' in html


def test_request_data_is_escaped_and_referrers_are_not_links(admin_client: Client) -> None:
    make_hit(
        path="/<script>alert(1)</script>",
        referrer="https://evil.example/",
        referrer_host='evil.example"><b>x',
    )
    html = admin_client.get(STATISTICS).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x" not in html
    assert 'href="https://evil.example' not in html


def test_unknown_filters_send_back_to_the_list(admin_client: Client) -> None:
    response = admin_client.get(f"{STATISTICS}?nope=1")
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def _staff(client: Client, *permissions: str) -> None:
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)


@pytest.mark.parametrize("url", [STATISTICS, f"{EXPORT}csv/", f"{EXPORT}jsonl/"])
def test_view_permission_is_required(client: Client, url: str) -> None:
    _staff(client)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [STATISTICS, f"{EXPORT}csv/", f"{EXPORT}jsonl/"])
def test_view_permission_is_enough(client: Client, url: str) -> None:
    _staff(client, "view_headerhit")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", [STATISTICS, f"{EXPORT}csv/"])
def test_anonymous_users_are_sent_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_unknown_export_format(admin_client: Client) -> None:
    assert admin_client.get(f"{EXPORT}xlsx/").status_code == 404


def test_export_is_an_attachment(admin_client: Client) -> None:
    response = admin_client.get(f"{EXPORT}csv/")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="hits-')


def test_the_hit_list_shows_people_by_default(admin_client: Client) -> None:
    _data()
    people = admin_client.get(HIT_LIST).context["cl"].result_count
    everyone = admin_client.get(f"{HIT_LIST}?traffic=all&verified=all").context["cl"].result_count
    assert people == HeaderHit.objects.filter(is_bot=False, prefetch="", verified=True).count()
    assert everyone == HeaderHit.objects.count()


def test_bot_reasons_sit_under_bots_and_link_to_them(admin_client: Client) -> None:
    _data()
    response = admin_client.get(STATISTICS)
    labels = [row["label"] for row in response.context["traffic_rows"]]
    assert labels == ["people", "bots", "crawler user agent", "prefetches"]
    html = response.content.decode()
    assert (
        f'href="{HIT_LIST}?kind__exact=view&amp;bot_reason__exact=crawler&amp;traffic=bot"' in html
    )


def test_the_page_marks_counts_of_a_folded_tail(admin_client: Client) -> None:
    # Eleven pages yesterday, ten kept: the rare one is counted among the others,
    # so the last day's tail shows as bounds, not as exact counts.
    from django.test import override_settings

    from lambdactr_django.stats import rollups

    for number in range(11):
        for _ in range(11 - number):
            make_hit(days_ago=1, path=f"/p{number}/")
    for _ in range(20):
        make_hit(days_ago=2, path="/p10/")
    url = "/admin/lambdactr_django/headerhit/statistics/?when=7d"
    # The page of all sites reads the rows over every site, which keep as many.
    with override_settings(LAMBDACTR_ROLLUP_KEEP=11, LAMBDACTR_ROLLUP_KEEP_EVERY_SITE=11):
        rollups.catch_up()
        assert "+≤" not in admin_client.get(url).content.decode()
    with override_settings(LAMBDACTR_ROLLUP_KEEP=10, LAMBDACTR_ROLLUP_KEEP_EVERY_SITE=10):
        rollups.forget_all()
        rollups.catch_up()
        page = admin_client.get(url).content.decode()
    assert "the rarest were counted together" in page
    # /p10/ had 1 view on the folded day, and its 20 others were kept.
    assert 'title="Views and visitors may each be up to 1 more' in page
    assert "20</a> <abbr" in page
    assert "+≤1</abbr>" in page


def test_the_new_dimensions_show_escaped_and_link_to_their_hits(admin_client: Client) -> None:
    make_hit(channel="email", utm_campaign="<script>x</script>", language="de", country="NZ")
    make_hit(kind="visitor", path="/landing/", utm_campaign="<script>x</script>")
    make_hit(path="/a/")
    html = admin_client.get(STATISTICS).content.decode()
    for title in ("Channels", "Entry pages (visits)", "Campaigns (utm_campaign)", "Languages"):
        assert title in html
    assert "direct or internal" in html
    assert "e-mail" in html
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert f'href="{HIT_LIST}?kind__exact=view&amp;channel__exact=email"' in html
    assert f'href="{HIT_LIST}?kind__exact=view&amp;country=NZ"' in html
    entry = f'href="{HIT_LIST}?kind__exact=visitor&amp;site=blog.example&amp;path=%2Flanding%2F"'
    assert html.count(entry) == 2
    listed = admin_client.get(f"{HIT_LIST}?kind__exact=view&channel__exact=email")
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1
    by_campaign = admin_client.get(
        f"{HIT_LIST}?kind__exact=visitor&utm_campaign=%3Cscript%3Ex%3C%2Fscript%3E"
    )
    assert by_campaign.context["cl"].result_count == 1
