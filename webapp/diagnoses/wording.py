"""The words a person reads about a diagnosis, in the current language: the site's own texts for what the service
sends as codes and numbers (triage reason and advice, photo-quality warnings, the context weighed, the disclaimer,
the measurements' names). Keyed by the service's machine codes, so every language reads them from the catalogue."""

from __future__ import annotations

import math

from skin_models.contract import PatientContextOut, PhotoKindOut, QualityWarningOut, Triage
from webapp.core.body_sites import MODEL_SITE_NAMES
from webapp.core.i18n import N_, _
from webapp.core.labels import label_name
from webapp.core.numbers import honest_percent

# The measurements a page shows, in order: the contract's field, its name, what it means, how it reads.
MEASUREMENT_TEXTS = (
    ("area_fraction", N_("Area"), N_("share of the photo covered by the spot"), lambda v: f"{v * 100:.1f} %"),
    ("diameter_px", N_("Diameter"), N_("longest extent, in pixels of the analysed photo"), lambda v: f"{v:.0f} px"),
    ("asymmetry", N_("Asymmetry"), N_("0 = perfectly symmetric"), lambda v: f"{v:.2f}"),
    ("border_irregularity", N_("Border irregularity"), N_("1 = a smooth circle; higher = more ragged"),
     lambda v: f"{v:.2f}"),
    ("colour_variegation", N_("Colour variation"), N_("0 = one even colour"), lambda v: f"{v:.2f}"),
)


DEFAULT_DISCLAIMER = N_("Dr. Skin is not a diagnosis. It is an automated estimate from a single photo, made by "
                        "software that can be wrong, and it cannot rule out skin cancer. See a doctor or "
                        "dermatologist if a spot is new, growing, changing in shape or colour, bleeding, itching or "
                        "not healing, if the result is medium or high, or whenever you are worried, whatever this "
                        "result says.")
SYNTHETIC_NOTE = N_("The models answering now were trained on synthetic images only (a first-run demo): their "
                    "results mean nothing.")

TRIAGE_ADVICE = {
    "high": N_("Please see a dermatologist soon, ideally within the next two weeks, and show them this spot. This "
               "result is not a diagnosis: only a doctor can examine the spot and tell what it is."),
    "medium": N_("Please have this spot checked by a doctor (your GP or a dermatologist) at your next opportunity. "
                 "This result is not a diagnosis: only a doctor can examine the spot and tell what it is."),
    "low": N_("Keep an eye on this spot: photograph it once a month in the same light, and see a doctor if it "
              "changes (ABCDE: asymmetry, irregular border, several colours, diameter over 6 mm, or evolving), "
              "bleeds, itches or worries you. This result is not a diagnosis and does not rule anything out."),
}

QUALITY_MESSAGES = {
    "too_small": N_("The photo is very small, so fine detail is lost. Please retake it closer, at full resolution, "
                    "with the spot filling about half of the frame."),
    "blurred": N_("The photo looks blurred. Hold the camera still (or rest your hand), let it focus on the spot, "
                  "and take it again from about 10 cm."),
    "too_dark": N_("The photo is too dark. Please retake it in daylight or a bright room, without shadows."),
    "too_bright": N_("The photo is overexposed. Avoid direct sunlight and the flash, and retake it in even, "
                     "indirect light."),
    "no_lesion_found": N_("No spot could be found in the photo. Centre the spot, move closer, and make sure it is "
                          "in focus."),
    "lesion_touches_border": N_("The spot runs off the edge of the photo, so its size and shape cannot be judged. "
                                "Step back a little and keep the whole spot, with some skin around it, inside the "
                                "frame."),
    "low_confidence": N_("The model is unsure: its best guess (%(name)s) has only %(probability)s. A sharper, "
                         "closer, well-lit photo may help; if in doubt, have the spot checked by a doctor."),
    "close_call": N_("The model cannot tell %(first)s (%(p1)s) from %(second)s (%(p2)s) in this photo: read the "
                     "result as either. If in doubt, have the spot checked by a doctor."),
}


NOT_A_LESION_MESSAGE = N_("This photo does not look like a close-up of skin with a spot on it, so Dr. Skin gives no "
                          "result: the models only know photos of skin lesions, and an answer about anything else "
                          "would mean nothing. Please photograph the skin spot itself, close (about 10 cm) and in "
                          "focus.")


# The person's own account of the spot (issue 26): the optional questions of the upload form, the request fields
# of /diagnose and the echo in ``patient_context``, in this order.
SPOT_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("changed", N_("Has it changed lately (size, shape or colour)?")),
    ("grew", N_("Has it grown?")),
    ("bled", N_("Has it bled?")),
    ("itched", N_("Does it itch?")),
    ("hurt", N_("Does it hurt?")),
    ("raised", N_("Is it raised above the skin?")),
)
# The red flags the service names in ``triage.red_flags``, as nouns ("you reported: bleeding").
RED_FLAG_NAMES = {"bled": N_("bleeding"), "changed": N_("a change")}
PHOTO_KIND_NAMES = {"dermoscopic": N_("dermoscopic photo (through a dermoscope)"), "phone": N_("phone photo")}
UNSURE_CODES = ("low_confidence", "close_call")


def triage_reason(triage: Triage, label: str, probabilities: dict[str, float]) -> str:
    """Why the level, in the current language, keyed on the service's ``reason_code``."""
    share = honest_percent(triage.concerning_probability)
    code = triage.reason_code
    if code == "red_flag":
        flags = ", ".join(_(RED_FLAG_NAMES[flag]) if flag in RED_FLAG_NAMES else flag for flag in triage.red_flags)
        return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s, below the model's "
                 "referral threshold of %(threshold)s, but you reported %(flags)s. A spot that bleeds or changes "
                 "should be seen by a doctor whatever a photo shows, so this result is never “low”.",
                 share=share, threshold=honest_percent(triage.threshold), flags=flags or _("a change"))
    if code == "melanoma_most_likely":
        return _("Melanoma is the most likely of the seven classes (%(probability)s). The estimated chance of a "
                 "malignant or pre-malignant lesion is %(share)s.",
                 probability=honest_percent(probabilities.get(label, 0.0)), share=share)
    if code == "high_concern":
        return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s, which is high. The most "
                 "likely class is %(name)s.", share=share, name=label_name(label))
    if code == "above_threshold":
        return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s, at or above the "
                 "model's referral threshold of %(threshold)s.", share=share,
                 threshold=honest_percent(triage.threshold))
    return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s, below the model's referral "
             "threshold of %(threshold)s. The most likely class is %(name)s.",
             share=share, threshold=honest_percent(triage.threshold), name=label_name(label))


def triage_advice(triage: Triage) -> str:
    """What to do next at this level, in the current language."""
    return _(TRIAGE_ADVICE[triage.level])


def quality_message(code: str, fallback: str, top: str, probabilities: dict[str, float]) -> str:
    """A photo-quality warning in the current language; unknown codes keep the service's text."""
    text = QUALITY_MESSAGES.get(code)
    if text is None:
        return fallback
    if code == "low_confidence":
        return _(text, name=label_name(top), probability=honest_percent(probabilities.get(top, 0.0)))
    if code == "close_call":
        first, second = sorted(probabilities, key=lambda c: probabilities[c], reverse=True)[:2]
        return _(text, first=label_name(first), p1=honest_percent(probabilities[first]), second=label_name(second),
                 p2=honest_percent(probabilities[second]))
    return _(text)


def context_note(given: PatientContextOut) -> str:
    """One sentence on what besides the photo the estimate weighed (the service's ``patient_context``)."""
    parts = []
    if given.age is not None:
        parts.append(_("age %(age)d", age=int(given.age)))
    if given.sex in ("female", "male"):
        parts.append(_("female") if given.sex == "female" else _("male"))
    if given.site is not None and given.site in MODEL_SITE_NAMES:
        # Its own message so that Korean can name it as a body part ("부위: 등"): 등 alone, last in a list, reads
        # as "etc.". English keeps the bare name.
        parts.append(_("%(site)s", site=_(MODEL_SITE_NAMES[given.site]).lower()))
    if any(getattr(given, field) is not None for field, _question in SPOT_QUESTIONS):
        parts.append(_("what you told us about the spot"))
    if not parts:
        return _("Judged from the photo alone: no age, sex or body site was given.")
    if given.applied:
        return _("Weighed with the photo: %(what)s.", what=", ".join(parts))
    return _("The model in use judges the photo alone; what you gave (%(what)s) was not used.", what=", ".join(parts))


def disclaimer(synthetic: bool) -> str:
    """The disclaimer under every result, with the synthetic-model note when it applies."""
    return _(DEFAULT_DISCLAIMER) + (" " + _(SYNTHETIC_NOTE) if synthetic else "")


def spot_account(given: PatientContextOut) -> list[tuple[str, str]]:
    """What the person said about the spot: (question, "Yes" / "No") for each question answered, in order."""
    answers = []
    for field, question in SPOT_QUESTIONS:
        value = getattr(given, field)
        if value is not None:
            answers.append((_(question), _("Yes") if value else _("No")))
    return answers


def photo_kind_note(kind: PhotoKindOut | None) -> str:
    """"Kind of photo: phone photo (97 %)"; empty when the served model does not tell kinds apart."""
    if kind is None:
        return ""
    return _("Kind of photo: %(kind)s (%(probability)s sure)", kind=_(PHOTO_KIND_NAMES[kind.kind]),
             probability=honest_percent(kind.probability))


def kind_performance_note(kind: PhotoKindOut | None) -> str:
    """What the served model was measured to do on this kind of photo ("on phone photos like this one, Dr. Skin
    flags about 9 in 10 skin cancers"); empty when not measured. Rounded down: never a better figure than measured,
    and never "10 in 10"."""
    if kind is None or kind.measured is None or kind.measured.malignant_sensitivity is None:
        return ""
    in_ten = min(9, math.floor(kind.measured.malignant_sensitivity * 10 + 1e-9))
    images = kind.measured.images
    if kind.kind == "phone":
        return _("On phone photos like this one, Dr. Skin flags about %(n)d in 10 skin cancers (measured on %(images)d "
                 "test photos it had not seen); it misses the others. A doctor's look is worth more than this "
                 "result.", n=in_ten, images=images)
    return _("On dermoscopic photos like this one, Dr. Skin flags about %(n)d in 10 skin cancers (measured on "
             "%(images)d test photos it had not seen); it misses the others.", n=in_ten, images=images)


def closer_photo_request(kind: PhotoKindOut | None, warnings: list[QualityWarningOut]) -> str:
    """When the photo is a phone photo and the answer is unsure: ask for a better one, or a dermoscope."""
    if kind is None or kind.kind != "phone" or not any(w.code in UNSURE_CODES for w in warnings):
        return ""
    return _("The model is unsure about this phone photo. A closer, sharper photo may help: the spot in focus and "
             "filling about a third of the picture, in even daylight. A photo taken through a dermoscope (a "
             "magnifier pressed on the skin, which dermatologists use) helps most.")
