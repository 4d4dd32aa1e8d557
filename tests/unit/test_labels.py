"""Staff pages name categories, stages and languages in words; the codes stay in exports."""

from __future__ import annotations

from grievance.web import labels


def test_codes_read_as_words() -> None:
    assert labels.category("FL-MOV") == "Forced labour: passport or ID kept, movement restricted"
    assert labels.category(None) == "not known yet"
    assert labels.stage("remediation_in_progress") == "Remediation in progress"
    assert labels.language("my") == "Burmese"
    assert labels.language("ne-Latn") == "Nepali, in Latin letters"
    assert labels.language("xx-nonsense") == "xx-nonsense"


def test_languages_are_named_in_the_pages_language() -> None:
    """A Malay page names a worker's language the Malay way (CLDR), with no app around."""
    from flask import Flask
    from flask_login import LoginManager

    from grievance.web import i18n

    app = Flask("grievance")
    LoginManager(app).user_loader(lambda _: None)  # nobody signed in: the browser decides
    i18n.install(app)
    with app.test_request_context(headers={"Accept-Language": "ms"}):
        assert labels.language("my") == "Burma"
        assert labels.language("ne-Latn") == "Nepal, dalam huruf Rumi"
        assert labels.category(None) == "belum diketahui"
    with app.test_request_context(headers={"Accept-Language": "th"}):
        assert labels.language("my") == "พม่า"
