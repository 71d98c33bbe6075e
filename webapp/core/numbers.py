"""Numbers as people read them."""

from __future__ import annotations


def honest_percent(value: float) -> str:
    """A probability as a person should read it: "> 99 %" and "< 1 %" at the ends (a model is never certain),
    whole percents in between. The spaces are no-break spaces (U+00A0): a line never breaks inside "49 %"."""
    value = float(value)
    if value > 0.99:
        return ">\u00a099\u00a0%"
    if value < 0.01:
        return "<\u00a01\u00a0%"
    return f"{value * 100:.0f}\u00a0%"
