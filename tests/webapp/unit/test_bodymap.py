"""The body map's vocabulary and geometry (webapp/lesions/bodymap.py): every site feeds the classifier a HAM10000
region, every drawn part has its pin inside it, and a pin from a form is checked before it is stored."""

from __future__ import annotations

import pytest

from skin_models.context import SITES
from webapp.core.body_sites import BODY_SITE_NAMES, MODEL_SITE, REGIONS, region_of
from webapp.lesions.bodymap import (
    HEIGHT,
    SHAPES,
    VIEWS,
    WIDTH,
    MappedSpot,
    MapPosition,
    browse_map,
    default_anchor,
    parse_position,
    parse_region,
    region_link,
    shapes_of,
)
from webapp.lesions.schemas import LesionForm


def test_every_site_maps_to_a_ham10000_region_and_every_region_is_reachable():
    assert set(MODEL_SITE) == set(BODY_SITE_NAMES)
    regions = {region for region in MODEL_SITE.values() if region is not None}
    assert regions == set(SITES)  # acral (palms, soles) and trunk (buttocks) included
    assert set(REGIONS) == {*SITES, "unknown"} and len(REGIONS) == len(SITES) + 1
    assert region_of("forearm") == region_of("upper_arm") == "upper extremity"
    assert region_of("buttocks") == "trunk" and region_of("palm_sole") == "acral"
    assert region_of("other") == region_of("elbow") == region_of(None) == "unknown"


def test_every_drawn_part_is_a_site_and_every_site_but_other_has_a_pin_on_its_own_part():
    assert {shape.site for shape in SHAPES} <= set(BODY_SITE_NAMES)
    assert {shape.view for shape in SHAPES} == set(VIEWS)
    for site in BODY_SITE_NAMES:
        anchor = default_anchor(site)
        if site == "other":
            assert anchor is None
            continue
        assert anchor is not None, site
        drawn = "hand" if site == "palm_sole" else site
        assert any(s.contains(anchor.svg) for s in shapes_of(drawn, anchor.view)), site
        assert parse_position(site, anchor.view, str(anchor.x), str(anchor.y)) == (anchor, [])
    # each part's own middle (where a keyboard choice puts the pin) is inside it, and inside the view's box
    for shape in SHAPES:
        x, y = shape.anchor
        assert shape.contains((x, y)) and 0 < x < WIDTH and 0 < y < HEIGHT, (shape.site, shape.view)
    # the person's left and right: the limbs come in pairs, one on each side of the middle
    for view in VIEWS:
        arms = shapes_of("forearm", view)
        assert sorted(s.side or "" for s in arms) == ["left", "right"]
    left_front = next(s for s in shapes_of("hand", "front") if s.side == "left")
    left_back = next(s for s in shapes_of("hand", "back") if s.side == "left")
    assert left_front.anchor[0] > WIDTH / 2 > left_back.anchor[0]  # facing us, the left hand is on our right


def test_front_only_and_back_only_sites():
    assert {s.view for s in shapes_of("back")} == {"back"}
    assert {s.view for s in shapes_of("face")} == {"front"}
    assert {s.view for s in shapes_of("chest")} == {"front"}
    assert {s.view for s in shapes_of("forearm")} == {"front", "back"}


def test_no_pin_is_no_position_and_a_good_pin_is_kept_rounded():
    assert parse_position("back", "", "", "") == (None, [])
    assert parse_position("back", "  ", " ", "") == (None, [])
    anchor = default_anchor("back")
    assert anchor is not None
    position, problems = parse_position("back", "back", f"{anchor.x:.9f}", f"{anchor.y:.9f}")
    assert problems == [] and position == MapPosition("back", round(anchor.x, 4), round(anchor.y, 4))


@pytest.mark.parametrize(("site", "view", "x", "y", "expected"), [
    ("back", "back", "1.5", "0.3", "from 0 to 1"),
    ("back", "back", "-0.1", "0.3", "from 0 to 1"),
    ("back", "back", "0.5", "nan", "from 0 to 1"),
    ("back", "back", "inf", "0.3", "from 0 to 1"),
    ("back", "back", "half", "0.3", "from 0 to 1"),
    ("back", "left", "0.5", "0.3", "front and a back"),
    ("back", "back", "0.5", "", "incomplete"),
    ("back", "front", "0.5", "0.3", "not on the front view"),
    ("face", "back", "0.5", "0.08", "not on the back view"),
    ("face", "front", "0.5", "0.95", "not on the face"),  # a pin on the feet for a spot on the face
    ("other", "front", "0.5", "0.3", "no place on the body map"),
])
def test_a_wrong_pin_is_refused_with_a_message(site, view, x, y, expected):
    position, problems = parse_position(site, view, x, y)
    assert position is None and len(problems) == 1
    assert expected in problems[0], problems


def test_the_lesion_form_reports_a_wrong_pin_and_a_missing_site():
    form = LesionForm(name="mole", body_site="back", map_side="front", map_x="0.5", map_y="0.3")
    assert any("not on the front" in problem for problem in form.errors())
    assert LesionForm(name="mole", body_site="elbow").errors() == ["Choose where on the body the spot is."]
    assert LesionForm(name="mole", body_site="back").errors() == []


def test_regions_from_the_query_string():
    assert parse_region("back", REGIONS) == "back"
    assert parse_region("upper-extremity", REGIONS) == "upper extremity"
    assert parse_region(" Lower_Extremity ", REGIONS) == "lower extremity"
    assert parse_region("unknown", REGIONS) == "unknown"
    assert parse_region("elbow", REGIONS) is None
    assert region_link("upper extremity") == "/lesions?region=upper-extremity"


def test_the_browse_map_links_parts_to_regions_and_fans_out_pins_that_share_a_place():
    spots = [MappedSpot(1, "/lesions/a", "1. a", "back", None), MappedSpot(2, "/lesions/b", "2. b", "back", None),
             MappedSpot(3, "/lesions/c", "3. c", "forearm", MapPosition("back", 0.25, 0.4)),
             MappedSpot(4, "/lesions/d", "4. d", "other", None)]
    view = browse_map(spots, MODEL_SITE, "back")
    front, back = view.figures
    assert [pin.number for pin in back.pins] == [1, 2, 3] and front.pins == []  # "other" is not on the map
    assert (back.pins[0].x, back.pins[0].y) != (back.pins[1].x, back.pins[1].y)
    assert (back.pins[2].x, back.pins[2].y) == (50.0, 176.0)
    links = {shape.site: shape.href for shape in back.shapes}
    assert links["back"] == "/lesions?region=back" and links["forearm"] == "/lesions?region=upper-extremity"
    assert {shape.site for shape in back.shapes if shape.current} == {"back"}


def test_a_spot_without_a_pin_is_drawn_as_approximate():
    """A spot whose site is known but whose place is not is drawn at the part's middle: marked so, never passing
    for a pin the person placed."""
    from webapp.lesions.bodymap import MappedSpot, browse_map

    placed = MapPosition("back", 0.4, 0.35)
    spots = [MappedSpot(1, "/lesions/a", "1. placed (Back)", "back", placed),
             MappedSpot(2, "/lesions/b", "2. unplaced (Back)", "back", None)]
    pins = {pin.number: pin for figure in browse_map(spots, MODEL_SITE, None).figures for pin in figure.pins}
    assert not pins[1].approximate and pins[1].label == "1. placed (Back)"
    assert pins[2].approximate and "no pin placed" in pins[2].label
