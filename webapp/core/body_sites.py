"""The body-site vocabulary: the site's body sites for people (finer than the model's), their mapping onto the
classifier's regions (HAM10000's ``localization``, ``skin_models.context.SITES``) and both in the current language.
Forms, the body map, the lesion list and the result pages all read it from here."""

from __future__ import annotations

from skin_models.context import SITES
from webapp.core.i18n import N_, _

BODY_SITES: tuple[tuple[str, str], ...] = (
    ("scalp", N_("Scalp")), ("face", N_("Face")), ("ear", N_("Ear")), ("neck", N_("Neck")), ("chest", N_("Chest")),
    ("abdomen", N_("Abdomen")), ("back", N_("Back")), ("buttocks", N_("Buttocks")), ("upper_arm", N_("Upper arm")),
    ("forearm", N_("Forearm")), ("hand", N_("Hand")), ("palm_sole", N_("Palm or sole")),
    ("genital", N_("Genital area")), ("upper_leg", N_("Upper leg")), ("lower_leg", N_("Lower leg")),
    ("foot", N_("Foot")), ("other", N_("Other")),
)
BODY_SITE_NAMES = dict(BODY_SITES)
# The site's body sites in the classifier's vocabulary (HAM10000's localization, skin_models.context.SITES); the
# site keeps its finer names for people, the model gets the region it was trained on. "other" tells it nothing.
# HAM10000 has no buttocks: they go to "trunk", its label for the torso that is neither back, chest nor abdomen;
# palms and soles are its "acral". The lesion list filters by these regions (webapp.lesions.bodymap).
MODEL_SITE: dict[str, str | None] = {
    "scalp": "scalp", "face": "face", "ear": "ear", "neck": "neck", "chest": "chest", "abdomen": "abdomen",
    "back": "back", "buttocks": "trunk", "upper_arm": "upper extremity", "forearm": "upper extremity",
    "hand": "hand", "palm_sole": "acral", "genital": "genital", "upper_leg": "lower extremity",
    "lower_leg": "lower extremity", "foot": "foot", "other": None,
}
# The classifier's regions as people read them (a result says which were weighed).
MODEL_SITE_NAMES: dict[str, str] = {
    "abdomen": N_("Abdomen"), "acral": N_("Palms or soles"), "back": N_("Back"), "chest": N_("Chest"),
    "ear": N_("Ear"), "face": N_("Face"), "foot": N_("Foot"), "genital": N_("Genital area"), "hand": N_("Hand"),
    "lower extremity": N_("Leg"), "neck": N_("Neck"), "scalp": N_("Scalp"), "trunk": N_("Trunk"),
    "upper extremity": N_("Arm"),
}

# The list's filter: HAM10000's regions, and "unknown" for the spots that are not on the map.
REGIONS: tuple[str, ...] = ("scalp", "face", "ear", "neck", "chest", "abdomen", "back", "trunk", "upper extremity",
                            "hand", "acral", "genital", "lower extremity", "foot", "unknown")
if set(REGIONS) != {*SITES, "unknown"}:  # head to toe here; the model's vocabulary is the source
    raise RuntimeError("webapp.core.body_sites.REGIONS differ from skin_models.context.SITES: update the list")


def body_site_name(code: str) -> str:
    """The body site in the current language (unknown codes as they are)."""
    name = BODY_SITE_NAMES.get(code)
    return _(name) if name else code


def body_site_choices() -> list[tuple[str, str]]:
    """``BODY_SITES`` in the current language, for the forms."""
    return [(code, _(name)) for code, name in BODY_SITES]


def region_of(site: str | None) -> str:
    """The classifier's region (HAM10000's ``localization``) of one of the site's body sites; "unknown" for
    "other" and anything not in the list."""
    return MODEL_SITE.get(site or "") or "unknown"


def region_name(region: str) -> str:
    """A region (``region_of``) in the current language."""
    return _(MODEL_SITE_NAMES[region]) if region in MODEL_SITE_NAMES else _("Not on the map")
