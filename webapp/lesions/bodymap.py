"""The body map: a front and a back outline of a person, drawn as inline SVG from the shapes below, where each
tracked spot is a pin.

One source for the geometry: the same polygons are drawn on the pages and used to check a pin the browser sends
(it must lie on the body site chosen, on a side of the body where that site is). A position is stored as fractions
(0-1) of one view's box, so the drawing can be scaled without moving anyone's pins.

Each shape belongs to one of the site's body sites (``webapp.core.body_sites.BODY_SITES``), which map onto the
classifier's regions (HAM10000's ``localization``, ``MODEL_SITE``); the lesion list filters by those regions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from webapp.core.body_sites import MODEL_SITE_NAMES, body_site_name
from webapp.core.i18n import N_, _

Point = tuple[float, float]

WIDTH, HEIGHT = 200.0, 440.0  # one view's box, in SVG units
GAP = 20.0  # between the front and the back view
CAPTION = 30.0  # below the views: "Front", "Back"
VIEWS: tuple[str, ...] = ("front", "back")
VIEW_NAMES = {"front": N_("Front view"), "back": N_("Back view")}
SIDE_NAMES = {"left": N_("%(site)s (left)"), "right": N_("%(site)s (right)")}
# A click on the outline's very edge may land a hair outside the polygon (rounding, anti-aliasing): in SVG units.
EDGE_TOLERANCE = 2.5
CENTRE = WIDTH / 2


@dataclass(frozen=True)
class MapPosition:
    """Where a pin sits: a view and fractions of that view's width and height."""

    view: str
    x: float
    y: float

    @property
    def svg(self) -> Point:
        return self.x * WIDTH, self.y * HEIGHT


@dataclass(frozen=True)
class Shape:
    """One clickable part of the outline: a body site on one view, on the person's left or right (or the middle)."""

    site: str
    view: str
    points: tuple[Point, ...]
    side: str | None = None  # the person's "left" / "right"

    @property
    def path(self) -> str:
        return "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in self.points) + " Z"

    @property
    def anchor(self) -> Point:
        """The polygon's centroid: where a pin goes when only the site is known, or the site was chosen by key."""
        area = cx = cy = 0.0
        pts = self.points
        for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
            cross = x0 * y1 - x1 * y0
            area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        return cx / (3 * area), cy / (3 * area)

    def contains(self, point: Point, tolerance: float = 0.0) -> bool:
        return _inside(point, self.points) or (tolerance > 0 and _distance_to_edges(point, self.points) <= tolerance)


# --- geometry helpers ----------------------------------------------------------------------------------------------

def _inside(point: Point, polygon: Sequence[Point]) -> bool:
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _distance_to_edges(point: Point, polygon: Sequence[Point]) -> float:
    px, py = point
    best = math.inf
    for (x0, y0), (x1, y1) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        dx, dy = x1 - x0, y1 - y0
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(px - (x0 + t * dx), py - (y0 + t * dy)))
    return best


def _hull(points: Iterable[Point]) -> tuple[Point, ...]:
    """Convex hull (Andrew's monotone chain), counter-clockwise."""
    pts = sorted(set(points))

    def half(seq: Sequence[Point]) -> list[Point]:
        out: list[Point] = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return tuple(lower[:-1] + upper[:-1])


def _circle(cx: float, cy: float, r: float, n: int = 28) -> list[Point]:
    return [(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n)]


def _limb(start: Point, end: Point, r_start: float, r_end: float) -> tuple[Point, ...]:
    """A tapered capsule: the hull of two circles."""
    return _hull(_circle(*start, r_start) + _circle(*end, r_end))


def _ellipse(cx: float, cy: float, rx: float, ry: float, t0: float = 0.0, t1: float = 2 * math.pi,
             n: int = 36) -> list[Point]:
    steps = max(2, round(n * (t1 - t0) / (2 * math.pi)))
    return [(cx + rx * math.cos(t0 + (t1 - t0) * i / steps), cy + ry * math.sin(t0 + (t1 - t0) * i / steps))
            for i in range(steps + (0 if t1 - t0 >= 2 * math.pi else 1))]


# The torso's half-width down its length (y, half-width), interpolated smoothly (cubic Hermite).
_TORSO = ((70, 12), (75, 27), (80, 37), (87, 42), (100, 39), (120, 36), (140, 32), (160, 29.5), (175, 31.5),
          (190, 35.5), (205, 37), (216, 35))


def _torso_half_width(y: float) -> float:
    ys = [p[0] for p in _TORSO]
    ws = [p[1] for p in _TORSO]
    i = max(0, min(len(ys) - 2, next((k for k in range(len(ys) - 1) if y <= ys[k + 1]), len(ys) - 2)))

    def slope(k: int) -> float:
        lo, hi = max(0, k - 1), min(len(ys) - 1, k + 1)
        return (ws[hi] - ws[lo]) / (ys[hi] - ys[lo])

    h = ys[i + 1] - ys[i]
    t = (y - ys[i]) / h
    h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
    return h00 * ws[i] + h10 * h * slope(i) + h01 * ws[i + 1] + h11 * h * slope(i + 1)


def _torso_band(y0: float, y1: float, step: float = 2.0) -> tuple[Point, ...]:
    ys = [y0 + step * k for k in range(int((y1 - y0) / step))] + [y1]
    right = [(CENTRE + _torso_half_width(y), y) for y in ys]
    left = [(CENTRE - _torso_half_width(y), y) for y in reversed(ys)]
    return tuple(right + left)


def _mirror(points: Iterable[Point]) -> tuple[Point, ...]:
    return tuple((2 * CENTRE - x, y) for x, y in points)


def _pair(site: str, view: str, viewer_left: Sequence[Point]) -> list[Shape]:
    """A limb drawn on the viewer's left and mirrored; the person's left is the viewer's right on the front view
    and the viewer's left on the back view."""
    left_side = "right" if view == "front" else "left"
    right_side = "left" if view == "front" else "right"
    return [Shape(site, view, tuple(viewer_left), left_side), Shape(site, view, _mirror(viewer_left), right_side)]


def _limbs(view: str) -> tuple[list[Shape], list[Shape]]:
    """(legs, arms) of one view: legs are drawn under the torso, arms over it."""
    legs = (_pair("upper_leg", view, _limb((CENTRE - 19, 210), (CENTRE - 21, 312), 18, 11))
            + _pair("lower_leg", view, _limb((CENTRE - 21, 312), (CENTRE - 20.5, 400), 11, 6))
            + _pair("foot", view, _limb((CENTRE - 20.5, 404), (CENTRE - 26, 422), 6, 7.5) if view == "front"
                    else _limb((CENTRE - 20.5, 404), (CENTRE - 21, 423), 6.5, 7)))
    arms = (_pair("upper_arm", view, _limb((CENTRE - 42, 91), (CENTRE - 50, 158), 11, 8.5))
            + _pair("forearm", view, _limb((CENTRE - 50, 158), (CENTRE - 58, 222), 8.5, 6))
            + _pair("hand", view, _limb((CENTRE - 59, 230), (CENTRE - 63, 254), 7.5, 5.5)))
    return legs, arms


def _build() -> tuple[Shape, ...]:
    head_cx, head_cy, head_rx, head_ry, hairline = CENTRE, 36.0, 19.0, 25.0, 21.0
    s = (hairline - head_cy) / head_ry
    right_t = math.asin(s)  # where the hairline meets the head's outline, on the viewer's right
    left_t = -math.pi - right_t
    ear = _ellipse(head_cx - head_rx - 0.5, 38, 4.5, 8.5, n=20)
    neck = [(CENTRE - 9, 52.0), (CENTRE + 9, 52.0), (CENTRE + 11, 78.0), (CENTRE - 11, 78.0)]
    shapes: list[Shape] = []
    for view in VIEWS:
        legs, arms = _limbs(view)
        shapes += _pair("ear", view, ear)
        shapes.append(Shape("neck", view, tuple(neck)))
        shapes += legs
        if view == "front":
            shapes += [Shape("chest", view, _torso_band(70, 140)), Shape("abdomen", view, _torso_band(140, 216))]
        else:
            shapes += [Shape("back", view, _torso_band(70, 186)), Shape("buttocks", view, _torso_band(186, 216))]
        shapes += arms
        if view == "front":
            shapes.append(Shape("scalp", view, tuple(_ellipse(head_cx, head_cy, head_rx, head_ry, left_t, right_t,
                                                              n=48))))
            shapes.append(Shape("face", view, tuple(_ellipse(head_cx, head_cy, head_rx, head_ry, right_t,
                                                             left_t + 2 * math.pi, n=48))))
            shapes.append(Shape("genital", view, ((CENTRE - 11, 204.0), (CENTRE + 11, 204.0), (CENTRE + 7, 216.0),
                                                  (CENTRE + 2.5, 224.0), (CENTRE - 2.5, 224.0),
                                                  (CENTRE - 7, 216.0))))
        else:
            shapes.append(Shape("scalp", view, tuple(_ellipse(head_cx, head_cy, head_rx, head_ry, n=48))))
    return tuple(shapes)


SHAPES: tuple[Shape, ...] = _build()
# Where a spot goes when only its site is known: the shape on this view, on the person's left where there are two.
_DEFAULT_VIEW = {"back": "back", "buttocks": "back", "scalp": "back"}
# Palms and soles (HAM10000's "acral") are not drawn apart from the hands and feet: their pins go on the hand.
_DRAWN_AS = {"palm_sole": "hand"}


def shapes_of(site: str, view: str | None = None) -> list[Shape]:
    return [s for s in SHAPES if s.site == site and (view is None or s.view == view)]


def default_anchor(site: str) -> MapPosition | None:
    """The pin of a spot whose site is known but whose place on the map is not; None when the site is not drawn."""
    drawn = _DRAWN_AS.get(site, site)
    candidates = shapes_of(drawn, _DEFAULT_VIEW.get(drawn, "front")) or shapes_of(drawn)
    if not candidates:
        return None
    shape = next((s for s in candidates if s.side == "left"), candidates[0])
    x, y = shape.anchor
    return MapPosition(shape.view, round(x / WIDTH, 4), round(y / HEIGHT, 4))


def parse_position(site: str, view: str, x: str, y: str) -> tuple[MapPosition | None, list[str]]:
    """A pin from a form's ``map_side``, ``map_x``, ``map_y`` for the body site ``site``: None when all three are
    empty (no pin placed), else the position or the problems with it, in the person's words."""
    given = [value.strip() for value in (view, x, y)]
    if not any(given):
        return None, []
    if not all(given):
        return None, [_("The pin on the body map was incomplete. Click on the map again, or choose from the list.")]
    view_value, x_text, y_text = given
    if view_value not in VIEWS:
        return None, [_("The body map has a front and a back view; “%(view)s” is neither.", view=view_value[:20])]
    try:
        fx, fy = float(x_text), float(y_text)
    except ValueError:
        return None, [_("The pin's place on the body map must be two numbers from 0 to 1.")]
    if not (math.isfinite(fx) and math.isfinite(fy) and 0 <= fx <= 1 and 0 <= fy <= 1):
        return None, [_("The pin's place on the body map must be two numbers from 0 to 1.")]
    drawn = _DRAWN_AS.get(site, site)
    if not shapes_of(drawn):
        return None, [_("“%(site)s” has no place on the body map: choose a body site, or remove the pin.",
                        site=body_site_name(site))]
    on_view = shapes_of(drawn, view_value)
    if not on_view:
        other = next(v for v in VIEWS if v != view_value)
        return None, [_("The %(site)s is not on the %(view)s: put the pin on the %(other)s.",
                        site=body_site_name(site).lower(), view=_(VIEW_NAMES[view_value]).lower(),
                        other=_(VIEW_NAMES[other]).lower())]
    position = MapPosition(view_value, round(fx, 4), round(fy, 4))
    if not any(shape.contains(position.svg, EDGE_TOLERANCE) for shape in on_view):
        return None, [_("The pin is not on the %(site)s. Click on the map where the spot is, or choose from the "
                        "list.", site=body_site_name(site).lower())]
    return position, []


# --- what the templates draw ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShapeView:
    site: str
    path: str
    label: str
    anchor: Point
    href: str = ""
    current: bool = False


@dataclass(frozen=True)
class PinView:
    number: int
    x: float
    y: float
    href: str
    label: str
    approximate: bool = False  # no pin placed: drawn at the site's anchor, and shown as such


@dataclass(frozen=True)
class FigureView:
    view: str
    name: str
    offset: float
    shapes: list[ShapeView]
    pins: list[PinView]
    right_x: float  # where the "R" mark goes: the person's right
    left_x: float


@dataclass(frozen=True)
class BodyMapView:
    figures: list[FigureView]
    width: float = 2 * WIDTH + GAP
    height: float = HEIGHT + CAPTION


def _part_label(shape: Shape) -> str:
    name = body_site_name(shape.site)
    return _(SIDE_NAMES[shape.side], site=name) if shape.side else name


def _figures(shape_view: Callable[[Shape], ShapeView], pins: dict[str, list[PinView]]) -> list[FigureView]:
    figures = []
    for index, view in enumerate(VIEWS):
        shapes = [shape_view(shape) for shape in SHAPES if shape.view == view]
        right_x, left_x = (CENTRE - 80, CENTRE + 80) if view == "front" else (CENTRE + 80, CENTRE - 80)
        figures.append(FigureView(view=view, name=_(VIEW_NAMES[view]), offset=index * (WIDTH + GAP), shapes=shapes,
                                  pins=pins.get(view, []), right_x=right_x, left_x=left_x))
    return figures


def picker_map() -> BodyMapView:
    """The map in a form: each part is a button that chooses its site (``static/js/bodymap.js``)."""

    def shape_view(shape: Shape) -> ShapeView:
        return ShapeView(site=shape.site, path=shape.path, label=_part_label(shape), anchor=shape.anchor)

    return BodyMapView(figures=_figures(shape_view, {}))


@dataclass(frozen=True)
class MappedSpot:
    """A tracked spot for the browse map."""

    number: int
    href: str
    label: str
    site: str
    position: MapPosition | None


def browse_map(spots: Sequence[MappedSpot], region_of: dict[str, str | None], current: str | None) -> BodyMapView:
    """The map on "My lesions": each part links to the list filtered by its region (HAM10000's name), the spots
    are numbered pins (their stored place, else their site's anchor, fanned out when several share it)."""
    def shape_view(shape: Shape) -> ShapeView:
        region = region_of.get(shape.site) or "unknown"
        part = _part_label(shape)
        label = _("%(part)s: show the spots in the region “%(region)s”", part=part,
                  region=_(MODEL_SITE_NAMES[region]) if region in MODEL_SITE_NAMES else region)
        return ShapeView(site=shape.site, path=shape.path, label=label, anchor=shape.anchor,
                         href=region_link(region), current=region == current)

    pins: dict[str, list[PinView]] = {}
    shared: dict[Point, int] = {}
    for spot in spots:
        position = spot.position
        fanned = position is None
        if position is None:
            position = default_anchor(spot.site)
        if position is None:
            continue
        x, y = position.svg
        if fanned:
            k = shared.get((x, y), 0)
            shared[(x, y)] = k + 1
            if k:  # 2nd, 3rd … spot on the same anchor: round it, 9 units out
                angle = (k - 1) * math.pi / 3
                x, y = x + 9 * math.cos(angle), y + 9 * math.sin(angle)
        label = spot.label if not fanned else _("%(spot)s — somewhere on this part; no pin placed",
                                                 spot=spot.label)
        pins.setdefault(position.view, []).append(PinView(spot.number, round(x, 1), round(y, 1), spot.href,
                                                          label, approximate=fanned))
    return BodyMapView(figures=_figures(shape_view, pins))


def region_link(region: str) -> str:
    return "/lesions?" + urlencode({"region": region.replace(" ", "-")})


def parse_region(value: str, regions: Iterable[str]) -> str | None:
    """A region from the list's ``?region=`` ("upper-extremity", "upper extremity" and "upper_extremity" alike);
    None when it is not one of ``regions``."""
    wanted = value.strip().lower().replace("-", " ").replace("_", " ")
    return wanted if wanted in set(regions) else None
