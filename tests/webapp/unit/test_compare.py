"""The change between two photos of a spot (webapp.lesions.evolution.compare, choose_pair): pure functions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from webapp.lesions.evolution import assess_evolution, choose_pair, compare
from webapp.lesions.schemas import TimelinePoint


def _point(day: int, area: float | None, concerning: float, border: float | None = None,
           colour: float | None = None) -> TimelinePoint:
    return TimelinePoint(diagnosis_id=uuid.uuid4(), taken_at=datetime(2026, 10, day, tzinfo=UTC),
                         photo_url="/photos/x", overlay_url=None, label="nv", label_name="Mole", triage_level="low",
                         area_fraction=area, concerning_probability=concerning, border_irregularity=border,
                         colour_variegation=colour)


def test_compare_measures_every_change_and_flags_by_the_rule():
    earlier, later = _point(1, 0.10, 0.05, 1.20, 0.10), _point(29, 0.13, 0.30, 1.45, 0.08)
    result = compare(earlier, later)
    changes = {c.key: c for c in result.changes}
    assert result.days_apart == 28
    assert (changes["area"].before, changes["area"].after, changes["area"].change) == ("10.0 %", "13.0 %", "+30 %")
    assert changes["area"].flagged  # +30 % > the rule's 20 %
    assert changes["border"].change == "+0.25" and not changes["border"].flagged
    assert changes["colour"].change == "-0.02"
    assert {c.key: c for c in compare(earlier, _point(2, 0.1, 0.05, 1.199, 0.10)).changes}["border"].change == "0.00"
    assert (changes["concerning"].before, changes["concerning"].after) == ("5\xa0%", "30\xa0%")
    assert changes["concerning"].change == "+25 points" and changes["concerning"].flagged


def test_missing_measurements_read_as_a_dash():
    changes = {c.key: c for c in compare(_point(1, None, 0.1), _point(2, 0.2, 0.1)).changes}
    assert changes["area"].before == "—" and changes["area"].change == "—" and not changes["area"].flagged
    assert changes["border"].change == "—" and changes["colour"].before == "—"


def test_choose_pair_orders_by_time_and_explains_bad_picks():
    points = [_point(1, 0.1, 0.1), _point(10, 0.1, 0.1), _point(20, 0.1, 0.1)]
    assert choose_pair(points, None, None) == (points[0], points[2], [])
    assert choose_pair(points, str(points[2].diagnosis_id), str(points[1].diagnosis_id)) == (points[1], points[2], [])
    first, last, problems = choose_pair(points, str(uuid.uuid4()), str(points[1].diagnosis_id))
    assert (first, last) == (points[0], points[2]) and "not one of this spot" in problems[0]
    assert "two different" in choose_pair(points, str(points[1].diagnosis_id), str(points[1].diagnosis_id))[2][0]
    assert choose_pair(points, "not-an-id", None)[2]


def test_a_flagged_change_never_reads_as_the_rules_own_number():
    """Bug 3 of issue 28: a rise of 0.152 was flagged ("more than 15 percentage points") and printed as 15."""
    earlier, later = _point(1, 0.100, 0.100), _point(29, 0.1201, 0.252)  # area +20.1 %, concern +15.2 points
    evolution = assess_evolution([earlier, later])
    assert evolution.flagged
    assert "The concerning probability rose by 15.2 percentage points" in evolution.reasons[1], evolution.reasons
    assert evolution.reasons[0] == "The area grew by 20.1% since the first photo."
    changes = {c.key: c for c in compare(earlier, later).changes}
    assert changes["concerning"].change == "+15.2 points" and changes["concerning"].flagged
    assert changes["area"].change == "+20.1 %" and changes["area"].flagged
    # Away from the limit the numbers stay whole.
    changes = {c.key: c for c in compare(_point(1, 0.1, 0.1), _point(2, 0.15, 0.35)).changes}
    assert changes["concerning"].change == "+25 points" and changes["area"].change == "+50 %"
