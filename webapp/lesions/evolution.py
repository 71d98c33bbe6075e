"""The change rule and the inline-SVG timeline: pure functions of the lesion's diagnoses."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from webapp.core.i18n import _, current_language
from webapp.core.labels import TRIAGE_RANK, triage_label
from webapp.core.numbers import honest_percent
from webapp.core.timezones import local_day
from webapp.lesions.schemas import Change, Comparison, Evolution, TimelinePoint

AREA_GROWTH = 0.20  # relative growth of the area fraction
CONCERN_RISE = 0.15  # absolute rise of P(mel) + P(bcc) + P(akiec)

def rule_text() -> str:
    """The rule, in the current language."""
    return _("We compare your latest photo with the first one of this spot and flag it when the spot's area grew by "
             "more than %(growth)s (relative), when the concerning probability (melanoma + basal cell carcinoma + "
             "actinic keratosis) rose by more than %(rise)d percentage points, or when the triage level went up. "
             "Area is measured as a share of the photo, so take every photo from the same distance.",
             growth=f"{AREA_GROWTH:.0%}", rise=round(CONCERN_RISE * 100))


def area_growth(earlier: TimelinePoint, later: TimelinePoint) -> float | None:
    """Relative change of the area share (0.2 = grew by a fifth); None when either photo has no area."""
    if not earlier.area_fraction or later.area_fraction is None:
        return None
    return (later.area_fraction - earlier.area_fraction) / earlier.area_fraction


def concern_rise(earlier: TimelinePoint, later: TimelinePoint) -> float:
    """Absolute change of the concerning probability (P(mel) + P(bcc) + P(akiec))."""
    return later.concerning_probability - earlier.concerning_probability


def _difference(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "—"
    difference = after - before
    return "0.00" if abs(difference) < 0.005 else f"{difference:+.2f}"  # never "-0.00"


def hundredths(value: float, limit: float, *, sign: bool = False) -> str:
    """``value`` × 100 as a person reads it beside a rule's ``limit`` (a fraction): whole numbers, unless rounding
    would print a value beyond the limit at or under it — a rise of 0.152 under "more than 15" reads 15.2, not 15
    (and 0.1501 reads 15.01): a flag never quotes a number that the rule it states would not flag."""
    text = ""
    for digits in range(4):
        text = f"{value * 100:{'+' if sign else ''}.{digits}f}"
        if not (abs(value) > limit and abs(float(text)) <= limit * 100):
            return text
    return text


def _points(difference: float) -> str:
    """A change between two percentages, in percentage points ("+25 points"; "0 points" below half a point)."""
    if round(difference * 100) == 0:
        return _("%(change)s points", change="0")
    return _("%(change)s points", change=hundredths(difference, CONCERN_RISE, sign=True))


def compare(earlier: TimelinePoint, later: TimelinePoint) -> Comparison:
    """The measured change between two photos of a spot (earlier first): area share (relative change, flagged
    above the rule's ``AREA_GROWTH``), border irregularity and colour variation (differences), and the concerning
    probability (difference, flagged above ``CONCERN_RISE``)."""
    growth = area_growth(earlier, later)

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f} %"

    def number(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    rise = concern_rise(earlier, later)
    changes = [
        Change("area", _("Area (share of the photo)"), share(earlier.area_fraction), share(later.area_fraction),
               "—" if growth is None else f"{hundredths(growth, AREA_GROWTH, sign=True)} %",
               flagged=growth is not None and growth > AREA_GROWTH),
        Change("border", _("Border irregularity"), number(earlier.border_irregularity),
               number(later.border_irregularity), _difference(earlier.border_irregularity, later.border_irregularity)),
        Change("colour", _("Colour variation"), number(earlier.colour_variegation), number(later.colour_variegation),
               _difference(earlier.colour_variegation, later.colour_variegation)),
        Change("concerning", _("Concerning probability"), honest_percent(earlier.concerning_probability),
               honest_percent(later.concerning_probability), _points(rise), flagged=rise > CONCERN_RISE),
    ]
    days = round((later.taken_at - earlier.taken_at).total_seconds() / 86400)  # 29 days 23 h read as 30
    return Comparison(earlier=earlier, later=later, changes=changes, days_apart=max(0, days))


def choose_pair(points: Sequence[TimelinePoint], a: str | None, b: str | None,
                ) -> tuple[TimelinePoint, TimelinePoint, list[str]]:
    """The two photos to compare, earlier first: the diagnoses ``a`` and ``b`` (ids, in either order) when both are
    photos of this spot, else the first and the latest with what was wrong. ``points`` are sorted oldest first and
    hold at least two."""
    default = (points[0], points[-1])
    if not a and not b:
        return (*default, [])
    by_id = {str(point.diagnosis_id): point for point in points}
    chosen = [by_id.get((value or "").strip().lower()) for value in (a, b)]
    if chosen[0] is None or chosen[1] is None:
        return (*default, [_("That photo is not one of this spot's photos. Choose two from the lists.")])
    if chosen[0] is chosen[1]:
        return (*default, [_("Choose two different photos to compare.")])
    earlier, later = sorted((chosen[0], chosen[1]), key=lambda point: points.index(point))
    return earlier, later, []


def assess_evolution(points: Sequence[TimelinePoint]) -> Evolution:
    """Apply the rule (see ``rule_text``) to points sorted oldest first."""
    if len(points) < 2:
        return Evolution()
    first, last = points[0], points[-1]
    reasons = []
    growth = area_growth(first, last)
    if growth is not None and growth > AREA_GROWTH:
        reasons.append(_("The area grew by %(growth)s since the first photo.",
                         growth=f"{hundredths(growth, AREA_GROWTH)}%"))
    rise = concern_rise(first, last)
    if rise > CONCERN_RISE:
        reasons.append(_("The concerning probability rose by %(rise)s percentage points (from %(first)s to "
                         "%(last)s).", rise=hundredths(rise, CONCERN_RISE),
                         first=honest_percent(first.concerning_probability),
                         last=honest_percent(last.concerning_probability)))
    if TRIAGE_RANK.get(last.triage_level, 1) > TRIAGE_RANK.get(first.triage_level, 1):
        reasons.append(_("The triage level went up from %(first)s to %(last)s.", first=triage_label(first.triage_level),
                         last=triage_label(last.triage_level)))
    return Evolution(flagged=bool(reasons), reasons=reasons, enough_photos=True)


def timeline_svg(points: Sequence[TimelinePoint], width: int = 640, height: int = 260, *,
                 zone: str | None = None) -> str:
    """Area share and concerning probability (both 0–100 %) per photo, as a self-contained inline SVG; the days
    on the axis as the calendar reads in ``zone`` (the reader's time zone; None: UTC)."""
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
                     f'{escape(local_day(point.taken_at, zone, current_language(), short=True))}</text>')
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
