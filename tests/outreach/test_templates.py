"""Newsletter templates: personal fields, Markdown to text and HTML, the sandbox."""

from __future__ import annotations

import pytest

from matchdesk.errors import InvalidInput
from matchdesk.outreach.templates import SAMPLE_VALUES, check_template, render


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_template("Hi {{ nick }}", "Your {{ diamonds_30d }} and {{ revenue }}, {{ tier }}")
    assert refused.value.message == "the newsletter cannot be saved"
    assert [d.split(" (")[0] for d in refused.value.details] == [
        "subject: unknown field 'nick'",
        "body: unknown field 'revenue'",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "{{ display_name.__class__.__mro__ }}",
        "{{ display_name.__class__ }}",
        '{{ display_name|attr("__class__") }}',
        "{{ handle.format.__globals__ }}",
        "{{ range(3) }}",
        "{{ lipsum() }}",
        "{{ cycler }}",
        "{{ config }}",
        "{% for x in [].__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_anything_beyond_the_fields(body: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_template("Hello", body)
    assert len(refused.value.details) == 1
    assert refused.value.details[0].startswith("body: ")


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_template("Hello", "one\n{{ tier ")
    assert refused.value.details[0].startswith("body, line 2: ")


def test_rendered_text_and_html() -> None:
    values = {**SAMPLE_VALUES, "display_name": "*Star* <b>", "diamonds_30d": 16_000}
    rendered = render(
        "News for {{ display_name }}",
        "# Hi {{ display_name }}\n\nYou earned **{{ diamonds_30d | thousands }}** diamonds.\n"
        "<i>raw</i>",
        values,
    )
    assert rendered.subject == "News for *Star* <b>"
    assert rendered.text == (
        "# Hi *Star* <b>\n\nYou earned **16,000** diamonds.\n<i>raw</i>\n"
        "\n-- \nUnsubscribe: https://matchdesk.example/unsubscribe/sample\n"
    )
    assert rendered.html == (
        "<h1>Hi *Star* &lt;b&gt;</h1>\n<p>You earned <strong>16,000</strong> diamonds.\n"
        "&lt;i&gt;raw&lt;/i&gt;</p>\n"
        '<hr><p class="footer"><a href="https://matchdesk.example/unsubscribe/sample">'
        "Unsubscribe</a></p>"
    )
