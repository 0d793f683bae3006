"""Fault injection: the integration servers, reused, with faults between them and the harness.

The fixtures come from tests/integration/conftest.py (one SMTP server per session); tests here
get the ``integration`` marker too, since they talk to real servers on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import (  # noqa: F401  (fixtures, found by name)
    smtp_account,
    smtp_server,
    tls_ca,
    unique,
)

_HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)
