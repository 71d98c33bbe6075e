"""The change rule and the inline-SVG timeline: pure functions of the lesion's diagnoses."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from webapp.core.i18n import _, short_date
from webapp.core.labels import TRIAGE_RANK, triage_label
from webapp.lesions.schemas import Evolution, TimelinePoint

AREA_GROWTH = 0.20  # relative growth of the area fraction
CONCERN_RISE = 0.15  # absolute rise of P(mel) + P(bcc) + P(akiec)

def rule_text() -> str:
    """The rule, in the current language."""
    return _("We compare your latest photo with the first one of this spot and flag it when the spot's area grew by "
             "more than %(growth)s (relative), when the concerning probability (melanoma + basal cell carcinoma + "
             "actinic keratosis) rose by more than %(rise)s, or when the triage level went up. Area is measured as a "
             "share of the photo, so take every photo from the same distance.",
             growth=f"{AREA_GROWTH:.0%}", rise=f"{CONCERN_RISE:.2f}")


RULE_TEXT = ("We compare your latest photo with the first one of this spot and flag it when the spot's area grew "
             f"by more than {AREA_GROWTH:.0%} (relative), when the concerning probability "
             f"(melanoma + basal cell carcinoma + actinic keratosis) rose by more than {CONCERN_RISE:.2f}, "
             "or when the triage level went up. Area is measured as a share of the photo, so take every photo from "
             "the same distance.")


def assess_evolution(points: Sequence[TimelinePoint]) -> Evolution:
    """Apply the rule (see ``RULE_TEXT``) to points sorted oldest first."""
    if len(points) < 2:
        return Evolution()
    first, last = points[0], points[-1]
    reasons = []
    if first.area_fraction and last.area_fraction is not None:
        growth = (last.area_fraction - first.area_fraction) / first.area_fraction
        if growth > AREA_GROWTH:
            reasons.append(_("The area grew by %(growth)s since the first photo.", growth=f"{growth:.0%}"))
    rise = last.concerning_probability - first.concerning_probability
    if rise > CONCERN_RISE:
        reasons.append(_("The concerning probability rose by %(rise)s (from %(first)s to %(last)s).",
                         rise=f"{rise:.2f}", first=f"{first.concerning_probability:.2f}",
                         last=f"{last.concerning_probability:.2f}"))
    if TRIAGE_RANK.get(last.triage_level, 1) > TRIAGE_RANK.get(first.triage_level, 1):
        reasons.append(_("The triage level went up from %(first)s to %(last)s.", first=triage_label(first.triage_level),
                         last=triage_label(last.triage_level)))
    return Evolution(flagged=bool(reasons), reasons=reasons, enough_photos=True)


def timeline_svg(points: Sequence[TimelinePoint], width: int = 640, height: int = 260) -> str:
    """Area share and concerning probability (both 0–100 %) per photo, as a self-contained inline SVG."""
    left, right, top, bottom = 48, 44, 16, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, value)))

    title = _("Area share of the photo and concerning probability over time")
    area_key, concern_key = _("area (share of photo)"), _("concerning probability")
    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="timeline-title" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="timeline-title">{escape(title)}</title>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
    for i, point in enumerate(points):
        parts.append(f'<text class="axis" x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="middle">'
                     f'{escape(short_date(point.taken_at))}</text>')
    series = (("area", [p.area_fraction for p in points]), ("concern", [p.concerning_probability for p in points]))
    for css, values in series:
        coords = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            parts.append(f'<polyline class="series {css}" points="{path}"/>')
        for (cx, cy), value in zip(coords, [v for v in values if v is not None], strict=True):
            parts.append(f'<circle class="dot {css}" cx="{cx:.1f}" cy="{cy:.1f}" r="4">'
                         f'<title>{value:.1%}</title></circle>')
    legend_y = height - 10
    parts.append(f'<rect class="key area" x="{left}" y="{legend_y - 9}" width="12" height="4"/>'
                 f'<text class="axis" x="{left + 18}" y="{legend_y}">{escape(area_key)}</text>')
    parts.append(f'<rect class="key concern" x="{left + 200}" y="{legend_y - 9}" width="12" height="4"/>'
                 f'<text class="axis" x="{left + 218}" y="{legend_y}">{escape(concern_key)}</text>')
    parts.append("</svg>")
    return "".join(parts)
