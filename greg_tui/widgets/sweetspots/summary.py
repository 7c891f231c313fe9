"""What the loaded results are: source, span, samples, when, parameters (from the manifest)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.markup import escape


def _when(created_at: str | None) -> str:
    if not created_at:
        return "unknown time"
    try:
        stamp = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return escape(created_at)
    age = datetime.now(UTC) - stamp
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


def manifest_summary(manifest: dict, shown: int | None = None, total: int | None = None, wide: bool = True) -> str:
    """Rich markup describing a stored sweep: counts and when, data per underlying, and (wide)
    the parameters."""
    params = manifest.get("parameters", {}) or {}
    groups: dict[tuple, list[str]] = {}  # underlyings sharing source, span and size read as one
    for name, info in (manifest.get("underlyings") or {}).items():
        span = info.get("span") or None
        span_text = f" {span[0][:10]}..{span[1][:10]}" if span else " (no data)"
        key = (str(info.get("source", "?")), span_text, info.get("samples", "?"))
        groups.setdefault(key, []).append(name)
    parts = []
    for (source, span_text, samples), names in groups.items():
        each = " each" if len(names) > 1 else ""
        parts.append(f"[b]{escape(', '.join(names))}[/b] {escape(source)}{span_text} ({samples} samples{each})")
    seconds = manifest.get("total_seconds", manifest.get("compute_seconds"))
    spots = manifest.get("sweet_spots", "?")
    count = f"[b]{spots} sweet spots[/b]"
    if shown is not None and total is not None and shown != total:
        count += f" ({shown} shown)"
    line1 = (
        f"{count} - computed {_when(manifest.get('created_at'))}"
        + (f" in {seconds:.1f}s" if isinstance(seconds, int | float) else "")
    )
    line2 = "; ".join(parts)
    lines = [line1, line2]
    if wide:
        lines.append(
            f"[dim]bins {params.get('x_bins', '?')}x{params.get('y_bins', '?')}, "
            f"min occupancy {float(params.get('min_env_frac', 0)) * 100:g}%, "
            f"min pass {float(params.get('min_pass_frac', 0)) * 100:g}%, top {params.get('top_k', '?')}, "
            f"missing policy {params.get('missing_policy', '?')}, counting {params.get('count_mode', '?')}[/dim]"
        )
    return "\n".join(lines)
