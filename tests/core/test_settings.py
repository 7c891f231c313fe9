"""Where greg-tui reads and writes (greg_core.settings): argument, environment, checkout."""

from __future__ import annotations

from pathlib import Path

from greg_core import settings
from greg_tui.cli import main as cli_main


def test_a_checkout_uses_its_own_folders(monkeypatch):
    for name in (settings.DATA_DIR_ENV, settings.BASE_DIR_ENV, settings.REGIME_FILE_ENV):
        monkeypatch.delenv(name, raising=False)
    root = settings.checkout_root()
    assert root == Path(__file__).resolve().parents[2]
    assert settings.default_data_dir() == root / "data"
    assert settings.default_base_dir() == root
    assert settings.default_regime_file() == root / "data" / "greg_regimes.json"


def test_environment_overrides_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "d"))
    monkeypatch.setenv(settings.BASE_DIR_ENV, str(tmp_path / "b"))
    monkeypatch.setenv(settings.REGIME_FILE_ENV, str(tmp_path / "r.json"))
    folders = settings.Folders.resolve()
    assert (folders.data_dir, folders.base_dir, folders.regime_file) == (tmp_path / "d", tmp_path / "b", tmp_path / "r.json")
    assert folders.output_dir == tmp_path / "b" / "backtest" / "output"
    explicit = settings.Folders.resolve(data_dir=tmp_path / "x")
    assert explicit.data_dir == tmp_path / "x"


def test_installed_as_a_tool_uses_the_user_data_folder(monkeypatch, tmp_path):
    for name in (settings.DATA_DIR_ENV, settings.BASE_DIR_ENV, settings.REGIME_FILE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings, "PACKAGE_ROOT", tmp_path / "site-packages")  # no pyproject.toml there
    monkeypatch.setattr(settings, "user_data_root", lambda: tmp_path / "user")
    assert settings.checkout_root() is None
    assert settings.default_data_dir() == tmp_path / "user" / "data"
    assert settings.default_base_dir() == tmp_path / "user"
    assert settings.default_regime_file() == tmp_path / "user" / "greg_regimes.json"


def test_where_prints_the_folders(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(settings.BASE_DIR_ENV, str(tmp_path))
    assert cli_main(["--where", "--data-dir", str(tmp_path / "real")]) == 0
    out = capsys.readouterr().out
    assert f"data folder:  {tmp_path / 'real'}" in out
    assert str(tmp_path / "backtest" / "output") in out and "regime file:" in out
