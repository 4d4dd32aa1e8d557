"""An API answer that breaks its own model is a plain 500 whose log names fields, never
their values: the values can be a worker's words."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from pydantic import ValidationError

from grievance.web.openapi import ApiError, _answer_checked
from grievance.web.schemas import Case


def test_a_broken_answer_is_logged_without_its_values(caplog: pytest.LogCaptureFixture) -> None:
    words = "Sunrise Garments, dormitory 4, +9779841315926"
    with pytest.raises(ValidationError) as broken:
        Case.model_validate({"id": "x", "site": words})
    request = Flask("probe").test_request_context("/api/v1/cases/1").request
    with caplog.at_level(logging.ERROR), pytest.raises(ApiError) as answered:
        _answer_checked(request, None, broken.value)
    assert answered.value.status == 500
    assert words not in answered.value.message
    assert "id (int_parsing)" in caplog.text
    assert words not in caplog.text
    assert "9841315926" not in caplog.text
