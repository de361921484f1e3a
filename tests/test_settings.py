"""Settings read from the environment: what a bad value is told."""

from __future__ import annotations

import pytest

from scheldt.errors import ConfigError
from scheldt.settings import get_settings


def test_the_node_s_ports_are_un_locodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCHELDT_PORTS: where a box with no document gated in is at the terminal."""
    try:
        monkeypatch.setenv("SCHELDT_PORTS", " beanr, nlrtm ,")
        get_settings.cache_clear()
        assert get_settings().ports == ("BEANR", "NLRTM")
        monkeypatch.setenv("SCHELDT_PORTS", "BEANR,Antwerp,XX1")
        get_settings.cache_clear()
        with pytest.raises(ConfigError) as err:
            get_settings()
        assert (err.value.where, err.value.why) == (
            "SCHELDT_PORTS", "not UN/LOCODEs (2 letters, then 3 letters or digits 2-9): ANTWERP, XX1")
        monkeypatch.delenv("SCHELDT_PORTS")
        get_settings.cache_clear()
        assert get_settings().ports == ("BEANR", "BEZEE")
    finally:
        get_settings.cache_clear()


def test_stix_check_processes_unset_or_empty_leave_the_share_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCHELDT_STIX_CHECK_PROCESSES: a number of processes, or (unset, or set but empty, as an
    env file's ``SCHELDT_STIX_CHECK_PROCESSES=`` leaves it) None: the server's share of the cores."""
    try:
        for value, expected in (("", None), ("  ", None), ("0", 0), (" 3 ", 3)):
            monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", value)
            get_settings.cache_clear()
            assert get_settings().stix_check_processes == expected, value
        monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", "two")
        get_settings.cache_clear()
        with pytest.raises(ConfigError) as err:
            get_settings()
        assert err.value.where == "SCHELDT_STIX_CHECK_PROCESSES"
        monkeypatch.delenv("SCHELDT_STIX_CHECK_PROCESSES")
        get_settings.cache_clear()
        assert get_settings().stix_check_processes is None
    finally:
        get_settings.cache_clear()
