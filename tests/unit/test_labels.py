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
