"""The portal in the creator's language: the page of an `id` creator in Indonesian, its
dates in their locale; the check-in, subscriptions and unsubscribe pages likewise; an
operator's pages stay English (issue 12, item 6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matchdesk.context import Matchdesk
from matchdesk.outreach.consent import unsubscribe_token
from matchdesk.portal.links import issue_portal_link, make_portal_token
from matchdesk.roster.editing import create_creator
from matchdesk.roster.service import get_creator

SARI = {
    "handle": "sari",
    "display_name": "Sari Dewi",
    "email": "sari@example.com",
    "timezone": "Asia/Jakarta",
    "languages": "id;en",
    "followers": "4200",
    "revenue_30d": "900",
    "availability": "Mon 19:00-21:00; Sat 23:00-01:00",
}


@pytest.fixture
def sari(md: Matchdesk, web: Any) -> str:
    """Sari on the roster; her portal path."""
    with md.transaction() as session:
        create_creator(session, md.program, SARI, "operator:m@example.com")
        link = issue_portal_link(session, md.settings, "sari")
    return link.url.removeprefix(md.settings.public_url())


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, element_id
    return " ".join(found.group(1).split())


def post_availability(client: TestClient, portal: str, availability: str) -> Any:
    """Post `availability` from the portal page's own form (its version and CSRF token)."""
    page = client.get(portal).text
    version = re.search(r'name="version" value="(\d+)"', page)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert version
    assert csrf
    return client.post(
        f"{portal}/availability",
        data={
            "availability": availability,
            "version": version.group(1),
            "csrf_token": csrf.group(1),
        },
    )


def test_the_portal_page_of_an_indonesian_creator_is_in_indonesian(web: Any, sari: str) -> None:
    html = TestClient(web).get(sari).text
    assert '<html lang="id">' in html
    assert "<title>Pertandingan dan ketersediaan Anda · " in html
    assert "<h1>Halo, Sari Dewi <small>@sari</small></h1>" in html
    assert '<span class="figure" id="tier">' in html
    assert "<span>Pengikut</span>" in html
    assert "<span>Berlian, 30 hari terakhir</span>" in html
    assert text_of(html, "matches-title") == "Pertandingan mendatang"
    assert "<p><strong>Belum ada pertandingan yang dijadwalkan</strong></p>" in html
    assert "<li>Sen 19:00–21:00</li>" in html
    assert "<li>Sab 23:00–01:00 (hari berikutnya)</li>" in html
    assert '<button type="submit" class="primary">Simpan ketersediaan</button>' in html
    expiry = text_of(html, "link-expiry")
    assert expiry.startswith("Halaman ini hanya untuk Anda: jangan bagikan alamatnya.")
    assert "Hi Sari" not in html
    assert "Upcoming matches" not in html


def test_a_saved_availability_is_confirmed_in_indonesian(web: Any, sari: str) -> None:
    client = TestClient(web)
    saved = post_availability(client, sari, "Tue 20:00-22:00")
    assert saved.status_code == 200
    assert '<p class="flash success" role="status" id="saved">Tersimpan</p>' in saved.text
    assert "<li>Sel 20:00–22:00</li>" in saved.text
    refused = client.post(f"{sari}/availability", data={"availability": "", "version": "1"})
    assert refused.status_code == 403
    assert "Formulir ini tidak berasal dari halaman matchdesk Anda." in refused.text


def test_the_other_portal_pages_speak_indonesian(md: Matchdesk, web: Any, sari: str) -> None:
    client = TestClient(web)
    checkin = client.get(f"{sari}/checkin").text
    assert "<title>Check-in Anda · " in checkin
    assert '<a href="' in checkin
    assert ">Kembali ke halaman Anda</a>" in checkin
    assert "<h2>Kapan check-in cocok untuk Anda</h2>" in checkin
    assert (  # Sari has no manager yet: the booking's own words, translated
        '<p id="unavailable">Manajer program Anda belum mengatur waktu check-in; '
        "mereka akan menghubungi Anda.</p>"
    ) in checkin
    subscriptions = client.get(f"{sari}/subscriptions").text
    assert "<h1>Pesan Anda <small>@sari</small></h1>" in subscriptions
    campaigns = client.get(f"{sari}/campaigns").text
    assert "<p>Saat ini Anda tidak mengikuti kampanye apa pun.</p>" in campaigns
    with md.transaction() as session:
        creator = get_creator(session, "sari")
        assert creator is not None
        token = unsubscribe_token(md.settings.signing_key(), creator.id, None)
    page = client.get(f"/unsubscribe/{token}").text
    assert "<h1>Berhenti berlangganan buletin?</h1>" in page
    done = client.post(f"/unsubscribe/{token}").text
    assert "<h1>Anda telah berhenti berlangganan</h1>" in done
    assert "Tidak ada lagi buletin yang akan dikirim ke sari@example.com." in done


def test_an_expired_link_says_so_in_the_creators_language(
    md: Matchdesk, web: Any, sari: str
) -> None:
    with md.transaction() as session:
        creator = get_creator(session, "sari")
        assert creator is not None
        long_ago = datetime.now(UTC) - timedelta(days=md.settings.portal_link_days + 1)
        old = make_portal_token(md.settings, "sari", creator.id, clock=lambda: long_ago)
    client = TestClient(web)
    expired = client.get(f"/portal/{old}")
    assert expired.status_code == 410
    assert '<html lang="id">' in expired.text
    assert "<h1>Ada yang tidak beres</h1>" in expired.text
    assert (
        "<p>Tautan ini sudah kedaluwarsa. Mintalah tautan baru kepada manajer program Anda.</p>"
        in expired.text
    )
    forged = client.get(f"/portal/{old[:-2]}xx")
    assert forged.status_code == 403
    assert '<html lang="en">' in forged.text  # a forged link names nobody
    assert "<p>This link is not valid.</p>" in forged.text


def test_a_mistake_in_the_availability_is_explained_in_indonesian(web: Any, sari: str) -> None:
    client = TestClient(web)
    refused = post_availability(
        client, sari, "Mon 19:00-23:00; Fri 25:00-02:00; Funday 10:00-11:00"
    )
    assert refused.status_code == 422
    errors = re.search(r'id="availability-error" role="alert">(.*?)</ul>', refused.text, re.S)
    assert errors
    assert re.findall(r"<li>(.*?)</li>", errors.group(1)) == [
        "&#39;Fri 25:00-02:00&#39;: jam 25 tidak di antara 00-23",
    ]
    funny = post_availability(client, sari, "Funday 10:00-11:00")
    assert (
        "<li>&#39;Funday 10:00-11:00&#39;: hari &#39;Funday&#39; tidak dikenal "
        "(gunakan Mon..Sun)</li>"
    ) in funny.text


def test_a_mistake_in_the_checkin_hours_is_explained_in_indonesian(web: Any, sari: str) -> None:
    client = TestClient(web)
    page = client.get(f"{sari}/checkin").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    refused = client.post(
        f"{sari}/checkin/hours", data={"hours": "Mon 9:00-9:00", "csrf_token": csrf.group(1)}
    )
    assert refused.status_code == 422
    assert (
        "<p>&#39;Mon 9:00-9:00&#39;: jam mulai dan selesai sama (jendela waktu kosong)</p>"
        in refused.text
    )
