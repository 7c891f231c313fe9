"""What the loaded results are: source, span, samples, when, parameters (from the manifest)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from greg_tui.markup import escape
from greg_tui.outcome_labels import OutcomeTrust


def _when(created_at: str | None, now: datetime | None = None) -> str:
    if not created_at:
        return "unknown time"
    try:
        stamp = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return escape(created_at)
    age = (now or datetime.now(UTC)) - stamp
    minutes = age.total_seconds() / 60
    if minutes < 1:
        ago = "just now"
    elif minutes < 60:
        ago = f"{minutes:.0f} min ago"
    elif minutes < 48 * 60:
        ago = f"{minutes / 60:.0f} h ago"
    else:
        ago = f"{minutes / 1440:.0f} days ago"
    return f"{stamp:%Y-%m-%d %H:%M} UTC ({ago})"


def absent_sensors(info: dict) -> list[str] | None:
    """Sensors an underlying's source lacks altogether (None: the manifest does not say)."""
    absent = info.get("absent_sensors")
    if isinstance(absent, list):
        return [str(name) for name in absent]
    availability = info.get("sensor_availability")
    if isinstance(availability, dict):
        return sorted(str(name) for name, n in availability.items() if not n)
    return None


SPARSE_SHARE = 0.5  # a sensor present on fewer of the samples than this is called sparse


def sparse_sensors(info: dict) -> list[tuple[str, str]]:
    """Sensors present on some but fewer than ``SPARSE_SHARE`` of the samples, with how many
    and, when the manifest records it, which days (a harvested chain covering 2 of 1,362
    days, for example)."""
    availability = info.get("sensor_availability")
    samples = info.get("samples")
    if not isinstance(availability, dict) or not isinstance(samples, int) or samples <= 0:
        return []
    coverage = info.get("sensor_coverage") if isinstance(info.get("sensor_coverage"), dict) else {}
    sparse = []
    for name, n in availability.items():
        if isinstance(n, int) and 0 < n < SPARSE_SHARE * samples:
            days = coverage.get(name) or {}
            when = f" ({days['first']}..{days['last']})" if days.get("first") else ""
            sparse.append((str(name), f"{n} of {samples}{when}"))
    return sparse


def data_warnings(info: dict) -> list[str]:
    """The engine's warnings about an underlying's data (sources that do not overlap, ...)."""
    warnings = info.get("warnings")
    return [str(w) for w in warnings] if isinstance(warnings, list) else []


POLICY_EFFECT = {
    "strict": "missing policy strict: rules reading them are false",
    "ignore-missing": "missing policy ignore-missing: comparisons on them are dropped",
}


def _span(info: dict) -> str:
    span = info.get("span") or None
    return f"{span[0][:10]}..{span[1][:10]}" if span else "no data"


def outcomes_line(trust: Mapping[str, OutcomeTrust]) -> str | None:
    """What the run's forward outcomes are, in one line: "model outcomes, realism: fail", or
    per underlying when their models differ ("model outcomes, realism: BTC fail, ETH not
    judged (BTC-derived)")."""
    if not trust:
        return None
    labels = {t.label for t in trust.values()}
    if len(labels) == 1:
        return labels.pop()
    prefix = "model outcomes, realism: "
    if all(label.startswith(prefix) for label in labels):
        return prefix + ", ".join(f"{u} {t.label.removeprefix(prefix)}" for u, t in trust.items())
    return "; ".join(f"{u}: {t.label}" for u, t in trust.items())


def coverage_lines(manifest: dict, wide: bool = True, trust: Mapping[str, OutcomeTrust] | None = None) -> list[str]:
    """Per underlying (or group of underlyings alike): the data source, span, samples, and the
    sensors with no data in it, with what the missing policy does about them; ``trust`` names
    the market as its data does ("ETH (BTC-derived)")."""
    trust = trust or {}
    params = manifest.get("parameters", {}) or {}
    policy = str(params.get("missing_policy", "?"))
    note = manifest.get("missing_policy_note") if wide else None
    groups: dict[tuple, list[tuple[str, dict]]] = {}  # underlyings alike read as one line
    for name, info in (manifest.get("underlyings") or {}).items():
        info = info if isinstance(info, dict) else {}
        absent = absent_sensors(info)
        key = (str(info.get("source", "?")), _span(info), info.get("samples", "?"),
               tuple(absent) if absent is not None else None, tuple(sparse_sensors(info)),
               tuple(data_warnings(info)))
        if wide:
            key += (info.get("description"),)  # wide: every description in full
        groups.setdefault(key, []).append((name, info))
    lines = []
    for (source, span, samples, absent, sparse, warnings, *_rest), members in groups.items():
        names = ", ".join(trust[name].market if name in trust else name for name, _info in members)
        descriptions = {str(info.get("description") or source) for _name, info in members}
        about = descriptions.pop() if len(descriptions) == 1 else source
        each = " each" if len(members) > 1 else ""
        line = f"[b]{escape(names)}[/b] {escape(about)}; {span} ({samples} samples{each})"
        if absent:
            effect = note or POLICY_EFFECT.get(policy, f"missing policy {policy}")
            line += (f"\n  [b]no data in this source:[/b] {escape(', '.join(absent))} "
                     f"[dim]({escape(str(effect))})[/dim]")
        if sparse:
            line += ("\n  [b]sparse:[/b] " + ", ".join(f"{escape(name)} {escape(days)}" for name, days in sparse)
                     + " [dim](their pairs rest on these samples only)[/dim]")
        for warning in warnings:
            line += f"\n  [b]⚠ {escape(warning)}[/b]"
        if not absent and not sparse and not warnings and absent is not None and wide:
            line += " [dim]every sensor has data[/dim]"
        lines.append(line)
    return lines


def held_up_text(held_up: tuple[int, int, int], wide: bool = True) -> str:
    """The walk-forward count (``backtest.heatmaps.markdown.held_up_counts``): (sweet spots,
    of them chosen on the earlier two thirds too with later-third days, of those beating the
    later third's no-trade days)."""
    total, chosen, beat = held_up
    if not wide:
        return f"held up out of sample: {beat} of {chosen}"
    return (f"out of sample: of {total} sweet spots, {chosen} were also chosen on the earlier two thirds "
            f"and had later-third days; {beat} of those beat the later third's no-trade days")


def manifest_summary(manifest: dict, shown: int | None = None, total: int | None = None, wide: bool = True,
                     now: datetime | None = None, trust: Mapping[str, OutcomeTrust] | None = None,
                     held_up: tuple[int, int, int] | None = None) -> str:
    """Rich markup describing a stored sweep: counts and when, the data of each underlying
    (source, span, samples, sensors without data), what its outcomes are and how many sweet
    spots held up out of sample, and (wide) the parameters."""
    params = manifest.get("parameters", {}) or {}
    seconds = manifest.get("total_seconds", manifest.get("compute_seconds"))
    spots = manifest.get("sweet_spots", "?")
    count = f"[b]{spots} sweet spots[/b]"
    if shown is not None and total is not None and shown != total:
        count += f" ({shown} shown)"
    line1 = (
        f"{count} - computed {_when(manifest.get('created_at'), now)}"
        + (f" in {seconds:.1f}s" if isinstance(seconds, int | float) else "")
    )
    lines = [line1, *coverage_lines(manifest, wide, trust)]
    outcomes = outcomes_line(trust) if trust and manifest.get("outcome_groups") else None
    if outcomes:
        line = f"[b]{escape(outcomes)}[/b]"
        if held_up is not None:
            line += ("\n" if wide else "; ") + held_up_text(held_up, wide)
        lines.append(line)
    if wide:
        lines.append(
            f"[dim]bins {params.get('x_bins', '?')}x{params.get('y_bins', '?')}, "
            f"min occupancy {float(params.get('min_env_frac', 0)) * 100:g}%, "
            f"min pass {float(params.get('min_pass_frac', 0)) * 100:g}%, top {params.get('top_k', '?')}, "
            f"missing policy {params.get('missing_policy', '?')}, counting {params.get('count_mode', '?')}[/dim]"
        )
    return "\n".join(lines)
