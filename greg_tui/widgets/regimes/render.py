"""Regime model pieces drawn for the regimes screen: parameter rows, the transition matrix
as a coloured grid with values, where the model came from, its vol dynamics and its stored
forward-realism verdict."""

from __future__ import annotations

import math

from rich.table import Table
from rich.text import Text

from backtest.regimes.realism import verdict_from_provenance
from greg_tui.markup import escape
from greg_tui.outcome_labels import model_realism
from synthetic.regime_model import RegimeModel

# (field, header): two header lines, the name the regime file uses and its unit. mu_vrp_30d
# is a fraction of RV (IV target = RV x (1 + mu_vrp_30d)); shown in % of RV and, in
# brackets, in vol points at the regime's mean RV (the unit every vrp sensor uses).
PARAM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Regime\n"),
    ("share", "Share\ndays"),
    ("mu_rv_30d", "mu_rv_30d\nvol pts"),
    ("mu_vrp_30d", "mu_vrp_30d\n%RV (pts)"),
    ("iv_level_sigma", "sigma\npts"),
    ("phi_iv", "phi_iv\n/day"),
    ("phi_skew", "phi_skew\n/day"),
)
NAME_WIDTH = 22


def _delta_label(key: str) -> str:
    try:
        return f"{float(key.removeprefix('delta_')):g}"
    except ValueError:
        return key


def skew_text(template: dict) -> str:
    return "  ".join(f"{_delta_label(k)}:{float(v):+.3f}" for k, v in template.items())


def _regime_name(regime_id: int, name: str) -> Text:
    return Text(f"{regime_id} {name}", no_wrap=True, overflow="ellipsis")


def parameter_table(model: RegimeModel) -> Table:
    """One row per regime; values the builder did not fit (defaults) are dimmed."""
    table = Table(box=None, padding=(0, 1, 0, 0), header_style="bold", show_edge=False,
                  title="Parameters (dim: defaults, not fitted)", title_justify="left", title_style="bold")
    for key, header in PARAM_COLUMNS:
        table.add_column(header, justify="left" if key == "name" else "right", no_wrap=True,
                         max_width=NAME_WIDTH if key == "name" else None)
    for regime_id, params in sorted(model.regimes.items()):
        fitted = set(params.fitted)

        def cell(field: str, text: str, fitted: set[str] = fitted) -> Text:
            return Text(text, style="" if not fitted or field in fitted else "dim")

        table.add_row(
            _regime_name(regime_id, params.name),
            Text(f"{params.share * 100:.1f}%"),
            cell("mu_rv_30d", f"{params.mu_rv_30d:.1f}"),
            cell("mu_vrp_30d", f"{params.mu_vrp_30d * 100:+.1f}% ({params.mu_rv_30d * params.mu_vrp_30d:+.1f})"),
            cell("iv_level_sigma", f"{params.iv_level_sigma:.2f}"),
            cell("phi_iv", f"{params.phi_iv:.3f}"),
            cell("phi_skew", f"{params.phi_skew:.3f}"),
        )
    return table


def skew_table(model: RegimeModel) -> Table:
    """Each regime's skew template: the IV offset at each call delta, in % of ATM IV."""
    deltas = list(next(iter(model.regimes.values())).skew_template) if model.regimes else []
    table = Table(box=None, padding=(0, 1, 0, 0), header_style="bold", show_edge=False,
                  title="Skew template: IV at call delta d = ATM IV x (1 + offset); offset in % of ATM IV",
                  title_justify="left", title_style="bold")
    table.add_column("Regime", no_wrap=True, max_width=NAME_WIDTH)
    for key in deltas:
        table.add_column(f"d {_delta_label(key)}", justify="right", no_wrap=True)
    for regime_id, params in sorted(model.regimes.items()):
        fitted = set(params.fitted)
        style = "" if not fitted or "skew_template" in fitted else "dim"
        table.add_row(_regime_name(regime_id, params.name),
                      *(Text(f"{float(params.skew_template.get(k, 0.0)) * 100:+.1f}%", style=style) for k in deltas))
    return table


def _blend(low: tuple[int, int, int], high: tuple[int, int, int], t: float) -> str:
    t = max(0.0, min(1.0, t))
    r, g, b = (round(a + (c - a) * t) for a, c in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def transition_table(model: RegimeModel, dark: bool) -> Table:
    """Rows: from regime; columns: to regime; background intensity = probability."""
    low, high = ((30, 34, 44), (40, 120, 200)) if dark else ((250, 250, 250), (90, 160, 220))
    fg = "#f0f0f0" if dark else "#101010"
    matrix = model.transition_matrix
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0),
                  title="Transitions P(row -> column) per day, long-run (stationary) share, mean dwell in days",
                  title_justify="left",
                  title_style="bold")
    stationary = model.stationary()
    dwell = model.dwell_times()
    table.add_column("from \\ to", no_wrap=True, max_width=NAME_WIDTH)
    for regime_id in sorted(model.regimes):
        table.add_column(f" {regime_id:>3}", justify="right", no_wrap=True)
    table.add_column("long-run", justify="right", no_wrap=True)
    table.add_column("dwell", justify="right", no_wrap=True)
    for i, regime_id in enumerate(sorted(model.regimes)):
        name = model.regimes[regime_id].name
        cells = []
        for j in range(matrix.shape[1]):
            value = float(matrix[i, j])
            style = f"{'bold ' if i == j else ''}{fg} on {_blend(low, high, value ** 0.5)}"
            cells.append(Text(f" {value:.2f}", style=style))
        stay = dwell[i]
        cells.append(Text(f"{stationary[i] * 100:.1f}%"))
        cells.append(Text("∞" if not math.isfinite(stay) else f"{stay:.1f}"))
        table.add_row(_regime_name(regime_id, name), *cells)
    return table


def provenance_text(model: RegimeModel, regime_file: str, file_exists: bool, warning: str | None) -> str:
    provenance = model.provenance or {}
    source = model.source
    if not source.startswith("built-in"):
        where = f"file {escape(source)}"
    elif file_exists:
        where = f"{escape(source)} [dim](the regime file {escape(regime_file)} has none for this underlying or is unusable)[/dim]"
    else:
        where = f"{escape(source)} [dim](no regime file yet at {escape(regime_file)}; b builds one)[/dim]"
    lines = [f"[b]Source:[/b] {where}"]
    facts = []
    if provenance.get("built_at"):
        facts.append(f"built {escape(str(provenance['built_at']))}")
    if provenance.get("source"):
        facts.append(f"from {escape(str(provenance['source']))}")
    if provenance.get("span"):
        span = provenance["span"]
        facts.append(f"data {span[0]}..{span[1]}")
    if provenance.get("samples_used") is not None:
        facts.append(f"{provenance['samples_used']} samples")
    if provenance.get("phi_iv_exponent") is not None:
        facts.append(f"phi_iv exponent {provenance['phi_iv_exponent']}")
    if facts:
        lines.append("[dim]" + ", ".join(facts) + "[/dim]")
    if warning:
        lines.append(f"[b]Note:[/b] {escape(warning)}")
    return "\n".join(lines)


# The vol dynamics every regime shares (synthetic.volatility.VolDynamics), as (field, name).
DYNAMICS_FIELDS: tuple[tuple[str, str], ...] = (
    ("persistence", "persistence"),
    ("vol_of_vol", "vol of vol"),
    ("news_persistence", "news persistence"),
    ("news_square", "news (squared move)"),
    ("news_signed", "news (signed move)"),
    ("trend_feedback", "trend feedback"),
    ("trend_half_life", "trend half-life (days)"),
    ("iv_news", "IV overreaction"),
    ("iv_news_persistence", "IV overreaction persistence"),
    ("vol_shock_skew", "vol shock skewness"),
    ("t_dof", "shocks t dof"),
)


def dynamics_text(model: RegimeModel) -> str:
    """The model's vol dynamics, one figure each; the ones not fitted from data dim."""
    dynamics = model.dynamics
    fitted = set(dynamics.fitted)
    parts = []
    for name, words in DYNAMICS_FIELDS:
        value = float(getattr(dynamics, name))
        text = f"{words} {value:.3g}"
        parts.append(text if not fitted or name in fitted else f"[dim]{text}[/dim]")
    note = " (dim: defaults, not fitted)" if fitted and len(fitted) < len(DYNAMICS_FIELDS) else ""
    return f"[b]Vol dynamics[/b] (every regime, daily){note}: " + ", ".join(parts)


def realism_text(model: RegimeModel) -> str:
    """The forward-realism verdict stored with the model (``verdict_from_provenance``), and
    what outcomes on it are labelled; a model derived from another market's says so."""
    verdict = verdict_from_provenance(model)
    label = f"model outcomes, {model_realism(model)}"
    if verdict is not None:
        judged = escape(verdict.summary())
    elif model.derived_from:
        judged = (f"not judged: {escape(model.label)} is {escape(model.derived_from)}'s model "
                  f"(there was no {escape(model.underlying)} data to calibrate or judge it on)")
    else:
        judged = "not judged (this model was not built with a realism check; b rebuilds and judges it)"
    return f"[b]Forward realism:[/b] {judged}\n[dim]outcomes on it are labelled '{escape(label)}'[/dim]"
