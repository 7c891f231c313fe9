"""RegimeModel persistence: per-underlying file, safe fallbacks, atomic writes."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from greg_core.atomic_io import atomic_write
from greg_core.errors import RegimeFileError
from synthetic.regime_model import (
    FORMAT_NAME,
    FORMAT_VERSION,
    RegimeModel,
    default_regime_model,
    load_regime_model,
    save_regime_model,
)
from synthetic.regimes import mean_dwell_times, stationary_distribution


def custom_model(underlying: str, scale: float = 1.0) -> RegimeModel:
    base = default_regime_model(underlying)
    regimes = {
        k: dataclasses.replace(r, mu_rv_30d=round(r.mu_rv_30d * scale, 6), name=f"{r.name} x{scale}")
        for k, r in base.regimes.items()
    }
    return RegimeModel(underlying, regimes, base.transition_matrix, {"source": f"test x{scale}"}, source="test")


def assert_same_model(a: RegimeModel, b: RegimeModel) -> None:
    assert a.underlying == b.underlying
    assert a.regimes == b.regimes
    np.testing.assert_allclose(a.transition_matrix, b.transition_matrix, atol=1e-10)
    assert a.provenance == b.provenance


def only_file(folder: Path, name: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == [name], "temp files left behind"


def write_file(path: Path, underlyings: dict, version: int = FORMAT_VERSION) -> None:
    payload = {"format": FORMAT_NAME, "version": version, "underlyings": underlyings}
    path.write_text(json.dumps(payload), encoding="utf-8")


# ----------------------------------------------------------------------------- roundtrip


def test_save_load_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "greg_regimes.json"
    model = custom_model("BTC", 1.1)
    assert save_regime_model(model, path) == path
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_regime_model("btc", path)
    assert_same_model(loaded, model)
    assert loaded.source == str(path)
    only_file(tmp_path, path.name)
    payload = json.loads(path.read_text())
    assert payload["format"] == FORMAT_NAME and payload["version"] == FORMAT_VERSION
    assert list(payload["underlyings"]) == ["BTC"]


def test_saving_btc_keeps_eth(tmp_path: Path) -> None:
    path = tmp_path / "greg_regimes.json"
    eth = custom_model("ETH", 1.3)
    save_regime_model(eth, path)
    save_regime_model(custom_model("BTC", 0.9), path)
    rebuilt = custom_model("BTC", 0.8)
    save_regime_model(rebuilt, path)
    assert sorted(json.loads(path.read_text())["underlyings"]) == ["BTC", "ETH"]
    assert_same_model(load_regime_model("ETH", path), eth)
    assert_same_model(load_regime_model("BTC", path), rebuilt)
    only_file(tmp_path, path.name)


def test_missing_file_gives_defaults_quietly(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_regime_model("BTC", tmp_path / "absent.json")
    assert_same_model(model, default_regime_model("BTC"))
    assert "default" in model.source


def test_file_without_the_underlying_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "greg_regimes.json"
    save_regime_model(custom_model("BTC"), path)
    model = load_regime_model("ETH", path)
    assert_same_model(model, default_regime_model("ETH"))
    assert "default" in model.source and "ETH" in model.source


# ----------------------------------------------------------------------------- bad files


def _valid_entry() -> dict:
    return custom_model("BTC").to_dict()


def _bad_matrix_rows() -> dict:
    entry = _valid_entry()
    entry["transition_matrix"][0][0] += 0.5
    return {"BTC": entry}


def _bad_matrix_shape() -> dict:
    entry = _valid_entry()
    entry["transition_matrix"] = entry["transition_matrix"][:-1]
    return {"BTC": entry}


def _negative_matrix() -> dict:
    entry = _valid_entry()
    entry["transition_matrix"][0][0] -= 2.0
    entry["transition_matrix"][0][1] += 2.0
    return {"BTC": entry}


def _bad_regime() -> dict:
    entry = _valid_entry()
    entry["regimes"]["0"]["phi_iv"] = 1.5
    return {"BTC": entry}


def _missing_regime_ids() -> dict:
    entry = _valid_entry()
    entry["regimes"]["9"] = entry["regimes"].pop("0")
    return {"BTC": entry}


def _regime_field(field: str, value) -> dict:
    entry = _valid_entry()
    entry["regimes"]["2"][field] = value
    return {"BTC": entry}


def _template_value(value) -> dict:
    entry = _valid_entry()
    entry["regimes"]["1"]["skew_template"]["delta_0.25"] = value
    return {"BTC": entry}


def _dynamics_field(field: str, value) -> dict:
    entry = _valid_entry()
    entry["dynamics"][field] = value
    return {"BTC": entry}


def _nan_token(path: Path, field: str) -> None:
    """JSON with a bare NaN token (Python's json writes and reads it) in one field."""
    text = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "underlyings": {"BTC": _valid_entry()}})
    value = json.dumps(_valid_entry()["regimes"]["0"][field])
    path.write_text(text.replace(f'"{field}": {value}', f'"{field}": NaN', 1), encoding="utf-8")


# name -> (writer, text the warning must contain: the field or the problem)
FIELD_CASES = {
    "invalid utf-8": (lambda p: p.write_bytes(b'{"format": "greg-regimes", "x": "' + bytes([0xFF, 0xFE, 0xFA]) + b'"}'), "UTF-8"),
    "utf-16 with bom": (lambda p: p.write_text(json.dumps({"format": FORMAT_NAME}), encoding="utf-16"), "UTF-8"),
    "deeply nested": (lambda p: p.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8"), "nested"),
    "huge integer": (lambda p: p.write_text('{"format": "greg-regimes", "version": ' + "9" * 5000 + "}", encoding="utf-8"), "JSON"),
    "skew template value text": (lambda p: write_file(p, _template_value("abc")), "skew_template.delta_0.25"),
    "skew template value list": (lambda p: write_file(p, _template_value([0.1, 0.2])), "skew_template.delta_0.25"),
    "skew template a list": (lambda p: write_file(p, _regime_field("skew_template", [0.1])), "skew_template"),
    "term_sigma text": (lambda p: write_file(p, _regime_field("term_sigma", "abc")), "term_sigma"),
    "drift NaN token": (lambda p: _nan_token(p, "drift_annual"), "drift_annual"),
    "mu_rv NaN token": (lambda p: _nan_token(p, "mu_rv_30d"), "mu_rv_30d"),
    "drift out of range": (lambda p: write_file(p, _regime_field("drift_annual", 40.0)), "drift_annual"),
    "phi_skew a boolean": (lambda p: write_file(p, _regime_field("phi_skew", True)), "phi_skew"),
    "name a number": (lambda p: write_file(p, _regime_field("name", 7)), "name"),
    "fitted not a list": (lambda p: write_file(p, _regime_field("fitted", "mu_rv_30d")), "fitted"),
    "unknown regime field": (lambda p: write_file(p, _regime_field("colour", "red")), "colour"),
    "dynamics missing": (lambda p: write_file(p, {"BTC": {k: v for k, v in _valid_entry().items() if k != "dynamics"}}), "dynamics"),
    "dynamics persistence text": (lambda p: write_file(p, _dynamics_field("persistence", "abc")), "persistence"),
    "dynamics t_dof infinite": (lambda p: write_file(p, _dynamics_field("t_dof", 1e309)), "t_dof"),
    "matrix holds text": (lambda p: write_file(p, {"BTC": {**_valid_entry(), "transition_matrix": [["a"]]}}), "transition_matrix"),
    "matrix holds null": (lambda p: write_file(p, {"BTC": {**_valid_entry(), "transition_matrix": [[None] * 6] * 6}}), "transition_matrix"),
    "regime id not a number": (lambda p: write_file(p, {"BTC": {**_valid_entry(), "regimes": {"zero": {}}}}), "zero"),
    "provenance a list": (lambda p: write_file(p, {"BTC": {**_valid_entry(), "provenance": [1]}}), "provenance"),
    "version 1 file": (lambda p: write_file(p, {"BTC": _valid_entry()}, version=1), "version 1"),
}


@pytest.mark.parametrize("case", sorted(FIELD_CASES))
def test_bad_field_warns_naming_it_and_gives_defaults(tmp_path: Path, case: str) -> None:
    """issue 13 item 5: every field's type and range is checked; a bad file never crashes, it
    falls back to the defaults with one line naming the field."""
    path = tmp_path / "greg_regimes.json"
    writer, named = FIELD_CASES[case]
    writer(path)
    with pytest.warns(UserWarning) as record:
        model = load_regime_model("BTC", path)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "\n" not in messages[0], messages
    assert named in messages[0] and str(path) in messages[0], messages
    assert_same_model(model, default_regime_model("BTC"))
    assert "default" in model.source and path.name in model.source


BAD_FILES = {
    "corrupt json": lambda p: p.write_text('{"format": "greg-regimes", "version": 1, "underl', encoding="utf-8"),
    "not an object": lambda p: p.write_text("[1, 2, 3]", encoding="utf-8"),
    "wrong format": lambda p: p.write_text(json.dumps({"format": "other", "version": 1}), encoding="utf-8"),
    "wrong version": lambda p: write_file(p, {"BTC": _valid_entry()}, version=99),
    "underlyings not a dict": lambda p: p.write_text(
        json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "underlyings": [1]}), encoding="utf-8"
    ),
    "matrix rows": lambda p: write_file(p, _bad_matrix_rows()),
    "matrix shape": lambda p: write_file(p, _bad_matrix_shape()),
    "matrix negative": lambda p: write_file(p, _negative_matrix()),
    "bad regime": lambda p: write_file(p, _bad_regime()),
    "regime ids": lambda p: write_file(p, _missing_regime_ids()),
    "no regimes": lambda p: write_file(p, {"BTC": {"transition_matrix": [[1.0]]}}),
    "regimes a list": lambda p: write_file(p, {"BTC": {"regimes": [1, 2], "transition_matrix": [[1.0]]}}),
    "regime a string": lambda p: write_file(p, {"BTC": {"regimes": {"0": "calm"}, "transition_matrix": [[1.0]]}}),
    "entry a number": lambda p: write_file(p, {"BTC": 5}),
    "a folder": lambda p: p.mkdir(),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_warns_and_gives_defaults(tmp_path: Path, case: str) -> None:
    path = tmp_path / "greg_regimes.json"
    BAD_FILES[case](path)
    with pytest.warns(UserWarning) as record:
        model = load_regime_model("BTC", path)
    assert any(str(path) in str(w.message) for w in record), [str(w.message) for w in record]
    assert_same_model(model, default_regime_model("BTC"))
    assert "default" in model.source and path.name in model.source


@pytest.mark.parametrize("case", ["corrupt json", "wrong version", "not an object"])
def test_saving_over_a_bad_file_raises_and_leaves_it(tmp_path: Path, case: str) -> None:
    path = tmp_path / "greg_regimes.json"
    BAD_FILES[case](path)
    before = path.read_bytes()
    with pytest.raises(RegimeFileError) as info:
        save_regime_model(custom_model("BTC"), path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    only_file(tmp_path, path.name)


# ----------------------------------------------------------------------------- model


def test_eth_defaults_are_labelled_btc_derived() -> None:
    """issue 10 item 5: until ETH data is imported, ETH's model is BTC's scaled, and says so."""
    eth, btc = default_regime_model("ETH"), default_regime_model("BTC")
    assert eth.derived_from == "BTC" and btc.derived_from is None
    assert eth.label == "ETH (BTC-derived)" and btc.label == "BTC"
    assert "BTC-derived" in eth.source
    ratio = eth.provenance["vol_ratio"]
    assert 0.95 <= ratio <= 1.4 and "2023" in eth.provenance["vol_ratio_source"]
    for k in btc.regimes:
        assert eth.regimes[k].mu_rv_30d == pytest.approx(btc.regimes[k].mu_rv_30d * ratio)
    assert eth.dynamics == btc.dynamics
    assert default_regime_model("SOL").label == "SOL (BTC-derived)"


def test_saving_over_a_version_1_file_replaces_it_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "greg_regimes.json"
    write_file(path, {"ETH": {"old": True}}, version=1)
    with pytest.warns(UserWarning, match="version 1.*ETH"):
        save_regime_model(custom_model("BTC"), path)
    payload = json.loads(path.read_text())
    assert payload["version"] == FORMAT_VERSION and list(payload["underlyings"]) == ["BTC"]


def test_defaults_are_valid_and_say_so() -> None:
    for underlying in ("BTC", "ETH"):
        model = default_regime_model(underlying)
        assert model.source.startswith("built-in defaults")
        assert model.n_regimes >= 2
        np.testing.assert_allclose(model.transition_matrix.sum(axis=1), 1.0, atol=1e-6)
        np.testing.assert_allclose(model.stationary(), stationary_distribution(model.transition_matrix))
        np.testing.assert_allclose(model.dwell_times(), mean_dwell_times(model.transition_matrix))
        assert np.isfinite(model.dwell_times()).all()
    other = default_regime_model("SOL")
    assert other.underlying == "SOL" and "BTC" in other.source
    assert other.regimes == default_regime_model("BTC").regimes
    # ETH's defaults are not BTC's copied blindly.
    assert default_regime_model("ETH").regimes != default_regime_model("BTC").regimes


def test_model_rejects_inconsistent_parts() -> None:
    base = default_regime_model("BTC")
    with pytest.raises(ValueError):
        RegimeModel("BTC", {k + 1: r for k, r in base.regimes.items()}, base.transition_matrix)
    with pytest.raises(ValueError):
        RegimeModel("BTC", base.regimes, np.eye(base.n_regimes + 1))
    with pytest.raises(ValueError):
        RegimeModel("BTC", base.regimes, base.transition_matrix * 2)


def test_save_refuses_nan(tmp_path: Path) -> None:
    path = tmp_path / "greg_regimes.json"
    save_regime_model(custom_model("BTC"), path)
    before = path.read_bytes()
    model = custom_model("BTC")
    model.provenance["bad"] = float("nan")
    with pytest.raises(ValueError):
        save_regime_model(model, path)
    assert path.read_bytes() == before
    only_file(tmp_path, path.name)


def test_atomic_write_cleans_up_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old", encoding="utf-8")

    def failing(temp: Path) -> None:
        temp.write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, failing)
    assert path.read_text(encoding="utf-8") == "old"
    only_file(tmp_path, "out.txt")
