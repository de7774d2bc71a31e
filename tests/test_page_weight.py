"""Slow links: no page weighs more than 150 KB compressed (its HTML and every stylesheet,
script, icon and font it loads, gzipped as the proxy sends them), the API docs aside; every page
names the app's own favicon."""

import gzip
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from registry.models import Kind
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import State, Target
from titles.services.rollups import rollups_rebuild

LIMIT = 150 * 1024
YEAR = timezone.localdate().year


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.icons: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("href"):
            rel = attrs.get("rel", "")
            if "stylesheet" in rel or "icon" in rel or "preload" in rel:
                self.urls.append(attrs["href"])
            if "icon" in rel:
                self.icons.append(attrs["href"])
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _weight(client, path: str) -> tuple[int, list[str], list[str]]:
    response = client.get(path)
    assert response.status_code == 200, path
    html = _body(response)
    assets = _Assets()
    assets.feed(html.decode())
    total = len(gzip.compress(html))
    for url in assets.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        body = _body(asset)
        # Fonts and images that are compressed already travel as they are.
        compressible = not re.search(r"\.(woff2?|png|jpe?g|webp)$", url)
        total += len(gzip.compress(body)) if compressible else len(body)
    return total, assets.urls, assets.icons


@pytest.fixture
def city(province, ward_a):
    Target.objects.create(unit=province, kind=Kind.FAMILY, year=YEAR, min_rate=70, max_rate=80)
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    for i in range(30):
        family = make_family(ward_a, code=f"H{i}", head_name=f"Nguyễn Văn Hộ {i}", community=area)
        registration(family.entity, year=YEAR, state=State.RECOGNIZED if i % 2 else "registered")
    rollups_rebuild(province_id=province.pk)
    return area


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/registry/families/",
        "/titles/registrations/",
        "/titles/review/",
        "/titles/dashboard/?province=01",
        "/titles/dashboard/ward/00070/",
        "/titles/reports/choose/",
        "/titles/signoff/",
        "/accounts/login/",
    ],
)
def test_no_page_weighs_more_than_150_kb_compressed(client, dave, city, path):
    if path != "/accounts/login/":
        client.force_login(dave)
    total, urls, icons = _weight(client, path)
    assert total <= LIMIT, f"{path}: {total / 1024:.0f} KB compressed ({', '.join(urls)})"
    assert icons == ["/static/favicon.svg"], path


def test_chart_library_loads_on_the_dashboard_only(client, dave, city):
    client.force_login(dave)
    _total, dashboard, _icons = _weight(client, "/titles/dashboard/?province=01")
    _total, families, _icons = _weight(client, "/registry/families/")
    assert any("chart" in url for url in dashboard)
    assert not any("chart" in url for url in families)
