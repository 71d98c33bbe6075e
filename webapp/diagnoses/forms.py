"""The upload and attach forms, and what the upload form sends the service besides the photo."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import UploadFile

from skin_models.context import MAX_AGE, SEXES
from webapp.core.body_sites import MODEL_SITE
from webapp.core.i18n import _
from webapp.diagnoses.wording import SPOT_QUESTIONS


@dataclass
class DiagnoseForm:
    image: UploadFile | None = None
    lesion_id: str = ""
    # Optional context for the classifier. The body site for a photo not added to a tracked lesion (a lesion's own
    # site wins); age and sex from the form only when not logged in (an account keeps them on its page).
    body_site: str = ""
    age: str = ""
    sex: str = ""
    # The person's own account of the spot (wording.SPOT_QUESTIONS): "yes", "no", or "" / "unknown" (don't know).
    changed: str = ""
    grew: str = ""
    bled: str = ""
    itched: str = ""
    hurt: str = ""
    raised: str = ""
    # Anonymous only: "yes" keeps the result for 30 minutes so that signing up can save it (webapp.diagnoses.pending)
    keep: str = ""


def context_fields(form: DiagnoseForm, *, lesion_site: str | None, birth_year: int | None, sex: str | None,
                   logged_in: bool, this_year: int) -> tuple[dict[str, str], list[str]]:
    """The optional ``age``, ``sex`` and ``site`` fields and the person's account of the spot (``changed``,
    ``grew``, ``bled``, ``itched``, ``hurt``, ``raised``: "true" / "false") to send with a photo (only those known),
    and the problems with what the form said. A tracked lesion's body site wins over the form's; an account's birth
    year and sex are used when logged in, the form's otherwise."""
    fields: dict[str, str] = {}
    problems: list[str] = []
    chosen_site = lesion_site if lesion_site is not None else form.body_site.strip()
    if chosen_site:
        if chosen_site not in MODEL_SITE:
            problems.append(_("Choose where on the body the spot is from the list, or leave it empty."))
        elif MODEL_SITE[chosen_site]:
            fields["site"] = str(MODEL_SITE[chosen_site])
    for name, _question in SPOT_QUESTIONS:
        answer = str(getattr(form, name)).strip().lower()
        if answer in ("yes", "no"):
            fields[name] = "true" if answer == "yes" else "false"
        elif answer not in ("", "unknown"):
            problems.append(_("Answer the questions about the spot with yes, no or don't know."))
            break
    if logged_in:
        if birth_year is not None and 0 <= this_year - birth_year <= MAX_AGE:
            fields["age"] = str(this_year - birth_year)
        if sex in SEXES:
            fields["sex"] = str(sex)
        return fields, problems
    age = form.age.strip()
    if age:
        if age.isdigit() and 0 <= int(age) <= MAX_AGE:
            fields["age"] = str(int(age))
        else:
            problems.append(_("Enter the age in whole years (0–120), or leave it empty."))
    if form.sex.strip():
        if form.sex.strip().lower() in SEXES:
            fields["sex"] = form.sex.strip().lower()
        else:
            problems.append(_("Choose female or male, or leave it empty."))
    return fields, problems


@dataclass
class AttachForm:
    lesion_id: str = ""
    new_lesion_name: str = ""
    body_site: str = ""
    # The new lesion's pin on the body map (webapp.lesions.bodymap), when one was placed.
    map_side: str = ""
    map_x: str = ""
    map_y: str = ""
