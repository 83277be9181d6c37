"""The creator's report page in the portal speaks the creator's language (issue 12, item
6): its headings, tiles, sentences, period picker, column titles, a match's status and
outcome, empty tables and the chart's titles in Spanish, Portuguese or Indonesian; an
English creator's page and the operators' report stay English (both backends)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link
from matchdesk.roster.models import Creator
from tests.results.test_reports import _program

Q = "from=2026-03-04&to=2026-03-10"
EMPTY = "from=2026-04-06&to=2026-04-12"  # no session, no match

# What each language writes, exactly: (title/h1, the period hint, the section headings,
# the period picker, the tiles' labels, the days table's and the matches table's column
# headers, the reliability and tier sentences, the chart's titles, the empty tables).
EXPECTED = {
    "es": {
        "h1": "Tu informe",
        "hint": "Del 4 mar 2026 al 10 mar 2026, días del programa.",
        "h2": ["Cifras", "Partidas", "Fiabilidad", "Nivel"],
        "picker": ["Desde", "Hasta", "Mostrar"],
        "tiles": [
            "diamantes",
            "sesiones",
            "horas en LIVE",
            "días en LIVE",
            "partidas hechas (diamantes: 400)",
        ],
        "days": [
            "día",
            "sesiones",
            "minutos en LIVE",
            "diamantes",
            "seguidores nuevos",
            "sesiones de partida",
        ],
        "matches": [
            "partida",
            "empieza (UTC)",
            "pareja",
            "estado",
            "diamantes",
            "resultado",
            "efecto",
        ],
        "reliability": "Invitaciones a partidas: 1. Confirmadas: 0, rechazadas: 0, sin asistir: 0.",
        "tier": "Nivel B. Siguiente nivel, A: te faltan 18,270 diamantes (30 días) y 0 seguidores.",
        "chart": ("Diamantes por día en LIVE", "día", "diamantes"),
        "match": ("sol", "hecha", "400", "victoria"),
        "empty": ["Ninguna sesión en este periodo.", "Ninguna partida en este periodo."],
    },
    "pt": {
        "h1": "Seu relatório",
        "hint": "De 4 de mar. de 2026 a 10 de mar. de 2026, dias do programa.",
        "h2": ["Números", "Partidas", "Confiabilidade", "Nível"],
        "picker": ["De", "Até", "Mostrar"],
        "tiles": [
            "diamantes",
            "sessões",
            "horas em LIVE",
            "dias em LIVE",
            "partidas concluídas (diamantes: 400)",
        ],
        "days": [
            "dia",
            "sessões",
            "minutos em LIVE",
            "diamantes",
            "novos seguidores",
            "sessões de partida",
        ],
        "matches": [
            "partida",
            "começa (UTC)",
            "parceiro",
            "situação",
            "diamantes",
            "resultado",
            "efeito",
        ],
        "reliability": "Convites para partidas: 1. Confirmadas: 0, recusadas: 0, faltas: 0.",
        "tier": "Nível B. Próximo nível, A: faltam 18,270 diamantes (30 dias) e 0 seguidores.",
        "chart": ("Diamantes por dia em LIVE", "dia", "diamantes"),
        "match": ("sol", "concluída", "400", "vitória"),
        "empty": ["Nenhuma sessão neste período.", "Nenhuma partida neste período."],
    },
    "id": {
        "h1": "Laporan Anda",
        "hint": "4 Mar 2026 sampai 10 Mar 2026, hari program.",
        "h2": ["Angka", "Pertandingan", "Keandalan", "Tingkat"],
        "picker": ["Dari", "Sampai", "Tampilkan"],
        "tiles": [
            "berlian",
            "sesi",
            "jam LIVE",
            "hari LIVE",
            "pertandingan selesai (berlian: 400)",
        ],
        "days": ["hari", "sesi", "menit LIVE", "berlian", "pengikut baru", "sesi pertandingan"],
        "matches": [
            "pertandingan",
            "mulai (UTC)",
            "pasangan",
            "status",
            "berlian",
            "hasil",
            "dampak",
        ],
        "reliability": "Undangan pertandingan: 1. Dikonfirmasi: 0, ditolak: 0, tidak hadir: 0.",
        "tier": "Tingkat B. Tingkat berikutnya, A: kurang 18,270 berlian (30 hari) dan 0 "
        "pengikut lagi.",
        "chart": ("Berlian per hari LIVE", "hari", "berlian"),
        "match": ("sol", "selesai", "400", "menang"),
        "empty": ["Tidak ada sesi pada periode ini.", "Tidak ada pertandingan pada periode ini."],
    },
    "en": {
        "h1": "Your report",
        "hint": "04 Mar 2026 to 10 Mar 2026, program days.",
        "h2": ["Figures", "Matches", "Reliability", "Tier"],
        "picker": ["From", "To", "Show"],
        "tiles": [
            "diamonds",
            "sessions",
            "LIVE hours",
            "days live",
            "matches completed (400 diamonds)",
        ],
        "days": [
            "day",
            "sessions",
            "LIVE minutes",
            "diamonds",
            "new followers",
            "match sessions",
        ],
        "matches": ["match", "starts (UTC)", "partner", "status", "diamonds", "outcome", "uplift"],
        "reliability": "Invited to 1 matches: confirmed 0, declined 0, no-show 0.",
        "tier": "Tier B. Next tier A: 18,270 diamonds (30 days) and 0 followers to go.",
        "chart": ("Diamonds per day live", "day", "diamonds"),
        "match": ("sol", "completed", "400", "win"),
        "empty": ["No session in this period.", "No match in this period."],
    },
}


def _words(html: str) -> str:
    return " ".join(html.split())


def _all(pattern: str, html: str) -> list[str]:
    return [_words(found) for found in re.findall(pattern, html, re.S)]


def _headers(html: str, table: str) -> list[str]:
    found = re.search(rf'id="table-{table}".*?<thead>(.*?)</thead>', html, re.S)
    assert found, table
    return _all(r'<th scope="col">(.*?)</th>', found.group(1))


def _match_cells(html: str) -> tuple[str, ...]:
    """The matches table's one row: partner, status, diamonds, outcome."""
    found = re.search(r'id="table-matches".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found
    cells = _all(r"<td>(.*?)</td>", found.group(1))
    assert len(cells) == 7
    return cells[2], cells[3], cells[4], cells[5]


def _chart_titles(html: str) -> tuple[str, str, str]:
    found = re.search(
        r'<script type="application/json" data-chart="chart-days">(.*?)</script>', html
    )
    assert found
    spec = json.loads(found.group(1))
    return spec["title"], spec["encoding"]["x"]["title"], spec["encoding"]["y"]["title"]


def _luna_speaks(md: Matchdesk, languages: str) -> str:
    """luna of the sample program, her roster languages `languages`; her portal token."""
    with md.transaction() as session:
        session.execute(update(Creator).where(Creator.handle == "luna").values(languages=languages))
        return issue_portal_link(session, md.settings, "luna").url.rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("languages", "language"),
    [("es", "es"), ("pt;en", "pt"), ("fr;id", "id"), ("en", "en"), ("fr", "en")],
)
def test_the_portal_report_speaks_the_creators_language(
    md: Matchdesk, client_as: Callable[[str | None], TestClient], languages: str, language: str
) -> None:
    _program(md)
    token = _luna_speaks(md, languages)
    client = client_as(None)
    html = client.get(f"/portal/{token}/report?{Q}").text
    want = EXPECTED[language]
    assert f'<html lang="{language}">' in html
    assert f"<title>{want['h1']} · " in html
    assert _all(r"<h1>(.*?)</h1>", html) == [want["h1"]]
    assert _all(r'<p class="hint">(.*?)</p>', html) == [want["hint"]]
    assert _all(r"<h2>(.*?)</h2>", html) == want["h2"]
    assert _all(r"<label>(\w+) <input", html) == want["picker"][:2]
    assert _all(r'<button type="submit">(.*?)</button>', html) == want["picker"][2:]
    tiles = _all(r'<div class="tile"><span class="figure"[^>]*>.*?</span><span>(.*?)</span>', html)
    assert tiles[:5] == want["tiles"]
    assert len(tiles) == 6  # and the uplift's, its words depending on the data
    assert _headers(html, "days") == want["days"]
    assert _headers(html, "matches") == want["matches"]
    assert _all(r'<section class="card" id="reliability">.*?<p>(.*?)</p>', html) == [
        want["reliability"]
    ]
    assert _all(r'<section class="card" id="tier-status">.*?<p>(.*?)</p>', html) == [want["tier"]]
    assert _match_cells(html) == want["match"]
    assert _chart_titles(html) == want["chart"]
    empty = client.get(f"/portal/{token}/report?{EMPTY}").text
    assert _all(r'<p class="empty">(.*?)</p>', empty) == want["empty"]
    if language != "en":
        assert "Your report" not in html
        assert "LIVE minutes" not in html


def test_the_operators_report_of_a_spanish_creator_stays_english(
    md: Matchdesk, client_as: Callable[[str | None], TestClient]
) -> None:
    _program(md)
    _luna_speaks(md, "es")
    viewer = client_as("viewer")
    html = viewer.get(f"/reports/creators/luna?{Q}").text
    assert '<html lang="en">' in html
    assert "<title>Report · @luna · " in html
    assert _all(r"<h2>(.*?)</h2>", html) == ["Figures", "Matches", "Reliability", "Tier"]
    assert _all(r'<p class="hint">(.*?)</p>', html) == ["2026-03-04 to 2026-03-10, program days."]
    assert _headers(html, "days") == EXPECTED["en"]["days"]
    assert _headers(html, "matches") == EXPECTED["en"]["matches"]
    assert _match_cells(html) == EXPECTED["en"]["match"]
    assert _chart_titles(html) == EXPECTED["en"]["chart"]
    assert "Tu informe" not in html
    days = viewer.get(f"/reports/creators/luna/export/days.csv?{Q}").text.splitlines()
    assert days[0] == "day,sessions,LIVE minutes,diamonds,new followers,match sessions"
