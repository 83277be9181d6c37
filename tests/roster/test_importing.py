"""Validation of roster files: every problem reported, exactly, in row and column order."""

import io

import pytest
from openpyxl import Workbook

from matchdesk.errors import InvalidInput
from matchdesk.roster.availability import Window
from matchdesk.roster.importing import CellError, parse_count, validate_table
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.tables import read_table

HEADER = "handle,timezone,languages,followers,revenue_30d,availability"


def problems(csv_text: str, known: tuple[str, ...] = ()) -> list[str]:
    return validate_table(read_table(csv_text.encode(), "roster.csv"), known).problems


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("12500", 12500),
        ("12,500", 12500),
        ("12.5k", 12500),
        ("1.2M", 1_200_000),
        ("3K", 3000),
        (" 7 ", 7),
        ("1_000", 1000),
    ],
)
def test_counts_accept_the_documented_forms(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", "'-5' is negative; it must be 0 or more"),
        ("abc", "'abc' is not a number (e.g. 12500, 12,500, 12.5k or 1.2M)"),
        ("12.5", "'12.5' is not a whole number"),
        ("1.2345k", "'1.2345k' is not a whole number"),
        ("", "a number is required"),
        ("nan", "'nan' is not a whole number"),
    ],
)
def test_counts_refuse_the_rest(text: str, message: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_count(text)
    assert str(caught.value) == message


def test_a_valid_row_becomes_a_record() -> None:
    table = read_table(
        (
            "Handle,display_name,email,timezone,languages,region,category,followers,"
            "revenue_30d,availability,blocked,status\n"
            "@Luna.Star,Luna ⭐,luna@example.com,Asia/Kolkata,HI; en,in,music,12.5k,"
            '"20,000",Mon 19:00-23:00; fri 22:00-02:00,@Zed_99,Paused\n'
            "zed_99,,,UTC,en,,,0,0,,,\n"
        ).encode(),
        "r.csv",
    )
    result = validate_table(table)
    assert result.problems == []
    assert result.records == [
        CreatorRecord(
            handle="luna.star",
            display_name="Luna ⭐",
            email="luna@example.com",
            timezone="Asia/Kolkata",
            languages=("hi", "en"),
            region="IN",
            category="music",
            followers=12500,
            revenue_30d=20000,
            availability=(Window(0, 19 * 60, 23 * 60), Window(4, 22 * 60, 2 * 60)),
            blocked=("zed_99",),
            status="paused",
        ),
        CreatorRecord(
            handle="zed_99", timezone="UTC", languages=("en",), followers=0, revenue_30d=0
        ),
    ]


def test_ten_distinct_mistakes_are_all_reported_in_order() -> None:
    text = (
        HEADER + ",blocked,status,email\n"
        "ok_one,UTC,en,10,10,Mon 19:00-20:00,,,\n"
        "a,UTC,en,10,10,Mon 19:00-20:00,,,\n"  # 1 handle too short
        "two,Mars/Base,en,10,10,Mon 19:00-20:00,,,\n"  # 2 time zone
        "three,UTC,xx,10,10,Mon 19:00-20:00,,,\n"  # 3 language
        "four,UTC,en,-1,10,Mon 19:00-20:00,,,\n"  # 4 negative
        "five,UTC,en,10,lots,Mon 19:00-20:00,,,\n"  # 5 non-numeric
        "six,UTC,en,10,10,Mon 19:00-25:00,,,\n"  # 6 availability
        "seven,UTC,en,10,10,Mon 19:00-20:00,seven,,\n"  # 7 blocks itself
        "eight,UTC,en,10,10,Mon 19:00-20:00,nobody,,\n"  # 8 unknown handle
        "ok_one,UTC,en,10,10,Mon 19:00-20:00,,,\n"  # 9 duplicate
        "ten,UTC,en,10,10,Mon 19:00-20:00,,sleeping,ten@@x\n"  # 10 status, 11 email
    )
    assert problems(text) == [
        "row 3, column handle: 'a' is not a valid handle (2-24 characters of a-z 0-9 _ .)",
        "row 4, column timezone: unknown time zone 'Mars/Base' "
        "(use an IANA name such as America/New_York)",
        "row 5, column languages: unknown language code 'xx' "
        "(use ISO 639-1 codes such as en, es, pt separated by ;)",
        "row 6, column followers: '-1' is negative; it must be 0 or more",
        "row 7, column revenue_30d: 'lots' is not a number (e.g. 12500, 12,500, 12.5k or 1.2M)",
        "row 8, column availability: 'Mon 19:00-25:00': hour 25 is not 00-23",
        "row 9, column blocked: 'seven' cannot block itself",
        "row 10, column blocked: 'nobody' is not on the roster or in this file",
        "row 11, column handle: 'ok_one' appears again (first on row 2)",
        "row 12, column status: 'sleeping' is not a status (use active or paused)",
        "row 12, column email: 'ten@@x' is not a valid e-mail address",
    ]


def test_blocked_handles_may_be_on_the_roster_already() -> None:
    text = HEADER + ",blocked\nanna,UTC,en,1,1,,@Bob\n"
    assert problems(text, known=("bob",)) == []
    assert problems(text) == ["row 2, column blocked: 'bob' is not on the roster or in this file"]


def test_header_problems_come_alone_with_a_suggestion() -> None:
    assert problems("handle,timezone,languages,folowers,revenue_30d,availability,tier\nx,y\n") == [
        "row 1, column folowers: unknown column (did you mean followers?)",
        "row 1, column tier: unknown column (known columns: handle, display_name, email, "
        "timezone, languages, region, category, followers, revenue_30d, availability, "
        "blocked, status, manager, checkin_hours)",
        "row 1: missing required column followers",
    ]


def test_manager_and_checkin_hours_columns() -> None:
    text = HEADER + ",manager,checkin_hours\nanna,UTC,en,1,1,,Mia@Example.com,Sat 09:00-12:00\n"
    result = validate_table(read_table(text.encode(), "r.csv"), managers={"mia@example.com"})
    assert result.problems == []
    assert result.records[0].manager == "mia@example.com"
    assert result.records[0].checkin_hours == (Window(5, 540, 720),)
    bad = HEADER + ",manager,checkin_hours\nanna,UTC,en,1,1,,ops@example.com,Sat 9-12\n"
    assert validate_table(read_table(bad.encode(), "r.csv"), managers=set()).problems == [
        "row 2, column manager: 'ops@example.com' is not an operator (add them first)",
        "row 2, column checkin_hours: 'Sat 9-12': time '9' is not HH:MM",
    ]


def test_duplicate_and_unnamed_columns() -> None:
    assert problems(HEADER + ",handle,,region\n") == [
        "row 1, column handle: the column appears twice",
        "row 1: a column has no name in the header row",
    ]


def test_missing_required_values_and_long_fields() -> None:
    long_name = "x" * 101
    text = (
        "handle,display_name,timezone,languages,followers,revenue_30d,availability\n"
        f"anna,{long_name},,,,,\n"
        "bob,Bob,UTC,en,1,1,Mon 10:00-11:00,extra\n"
        "carl,Carl,UTC,en\n"
    )
    assert problems(text) == [
        "row 2, column display_name: too long (101 characters; at most 100)",
        "row 2, column timezone: a time zone is required (an IANA name such as America/New_York)",
        "row 2, column languages: at least one language is required "
        "(ISO 639-1 codes such as en;es)",
        "row 2, column followers: a number is required",
        "row 2, column revenue_30d: a number is required",
        "row 3: 8 values but the header has 7 columns",
        "row 4, column followers: a number is required",
        "row 4, column revenue_30d: a number is required",
    ]


def test_empty_availability_is_allowed() -> None:
    result = validate_table(read_table((HEADER + "\nanna,UTC,en,1,1,\n").encode(), "r.csv"))
    assert result.problems == []
    assert result.records[0].availability == ()


def test_blank_rows_are_skipped_and_row_numbers_match_the_sheet() -> None:
    text = HEADER + "\n\nanna,UTC,en,1,1,\n,,,,,\nbob,UTC,en,x,1,\n"
    assert problems(text) == [
        "row 5, column followers: 'x' is not a number (e.g. 12500, 12,500, 12.5k or 1.2M)"
    ]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "r.csv", "r.csv is empty: the first row must be the header (handle, timezone, ...)"),
        (
            b" \n\n",
            "r.csv",
            "r.csv is empty: the first row must be the header (handle, timezone, ...)",
        ),
        (
            b",,,\n,,\n",
            "r.csv",
            "r.csv is empty: the first row must be the header (handle, timezone, ...)",
        ),
        (
            b"\x7fELF\x02\x01\x00\x00binary",
            "r.csv",
            "r.csv looks like a binary file, not CSV text; export the sheet as 'CSV UTF-8' or XLSX",
        ),
        (
            "handle\nJos\u00e9\n".encode("latin-1"),
            "r.csv",
            "r.csv is not UTF-8 text (byte 0xe9 on line 2); "
            "re-save it as 'CSV UTF-8' in your spreadsheet program",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old",
            "r.xls",
            "r.xls is an old Excel .xls file; save it as .xlsx or 'CSV UTF-8'",
        ),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(
    data: bytes, name: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(data, name)
    assert caught.value.message == message


def test_broken_xlsx_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(b"PK\x03\x04 not really a zip", "r.xlsx")
    assert caught.value.message.startswith("r.xlsx is not a readable XLSX workbook")


def test_xlsx_first_sheet_with_numbers_and_bom_free_text() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["handle", "timezone", "languages", "followers", "revenue_30d", "availability"])
    sheet.append(["@Anna", "Europe/Berlin", "de;en", 12500, 300.0, "Sat 18:00-20:00"])
    workbook.create_sheet("notes").append(["ignored"])
    data = io.BytesIO()
    workbook.save(data)
    result = validate_table(read_table(data.getvalue(), "roster.xlsx"))
    assert result.problems == []
    assert result.records == [
        CreatorRecord(
            handle="anna",
            timezone="Europe/Berlin",
            languages=("de", "en"),
            followers=12500,
            revenue_30d=300,
            availability=(Window(5, 18 * 60, 20 * 60),),
        )
    ]


def test_utf8_bom_and_tab_separated_files_are_read() -> None:
    data = ("\ufeff" + HEADER.replace(",", "\t") + "\nanna\tUTC\ten;es\t1\t2\t\n").encode()
    result = validate_table(read_table(data, "r.tsv"))
    assert result.problems == []
    assert result.records[0].languages == ("en", "es")


def test_control_characters_and_huge_counts_are_refused() -> None:
    text = HEADER + "\nanna,UTC,en,99999999999999999999,1,\nbob\x07,UTC,en,1,1,\n"
    assert problems(text) == [
        "row 2, column followers: '99999999999999999999' is too large "
        "(at most 1,000,000,000,000,000)",
        "row 3, column handle: contains a control character (such as NUL or a tab)",
    ]
