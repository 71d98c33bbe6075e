"""What the disease templates receive: plain view objects in one language, built from the content and the labels.

Pure functions, so the pages' wording and grouping can be tested without HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from skin_models.labels import Label, LesionGroup
from webapp.core.i18n import N_, gettext
from webapp.core.labels import LABELS, get_label, label_name
from webapp.diseases.content import DISEASE_PAGES
from webapp.diseases.schemas import DiseaseText, Language, Source

GROUP_ORDER: tuple[LesionGroup, ...] = (LesionGroup.MALIGNANT, LesionGroup.PRE_MALIGNANT, LesionGroup.BENIGN)
# The site's existing colour classes (green/amber/red), reused so the library needs no CSS of its own.
GROUP_STYLE = {LesionGroup.MALIGNANT: "triage-high", LesionGroup.PRE_MALIGNANT: "triage-medium",
               LesionGroup.BENIGN: "triage-low"}
GROUP_TEXT = {
    LesionGroup.MALIGNANT: N_("Malignant: a skin cancer"),
    LesionGroup.PRE_MALIGNANT: N_("Pre-malignant or in situ: can become an invasive skin cancer if left untreated"),
    LesionGroup.BENIGN: N_("Benign: not cancer"),
}
GROUP_HEADING = {
    LesionGroup.MALIGNANT: N_("Malignant (skin cancers)"),
    LesionGroup.PRE_MALIGNANT: N_("Pre-malignant and in situ"),
    LesionGroup.BENIGN: N_("Benign (not cancer)"),
}


@dataclass(frozen=True, slots=True)
class DiseaseSummary:
    code: str
    name: str
    group: LesionGroup
    group_text: str
    group_style: str
    summary: str


@dataclass(frozen=True, slots=True)
class DiseaseGroup:
    group: LesionGroup
    heading: str
    diseases: tuple[DiseaseSummary, ...]


@dataclass(frozen=True, slots=True)
class DiseaseView:
    code: str
    name: str
    other_name: str  # the name in the other language, for people who know the term from elsewhere
    group: LesionGroup
    group_text: str
    group_style: str
    text: DiseaseText
    show_abcde: bool
    sources: tuple[Source, ...]


def _summary(label: Label, lang: Language) -> DiseaseSummary:
    return DiseaseSummary(code=label.code, name=label_name(label.code, lang), group=label.group,
                          group_text=gettext(lang, GROUP_TEXT[label.group]), group_style=GROUP_STYLE[label.group],
                          summary=DISEASE_PAGES[label.code].text(lang).summary)


def library_groups(lang: Language) -> tuple[DiseaseGroup, ...]:
    """The seven classes by group, most worrying first, in model order within a group; empty groups left out."""
    groups = []
    for group in GROUP_ORDER:
        members = tuple(_summary(label, lang) for label in LABELS if label.group is group)
        if members:
            groups.append(DiseaseGroup(group=group, heading=gettext(lang, GROUP_HEADING[group]), diseases=members))
    return tuple(groups)


def all_summaries(lang: Language) -> tuple[DiseaseSummary, ...]:
    return tuple(_summary(label, lang) for label in LABELS)


def disease_view(code: str, lang: Language) -> DiseaseView:
    """One class's page; ``code`` must be a canonical (lower-case) class code, else ``UnknownLabelError``."""
    label = get_label(code)
    page = DISEASE_PAGES[label.code]
    other_lang = "en" if lang == "ko" else "ko"
    return DiseaseView(code=label.code, name=label_name(label.code, lang),
                       other_name=label_name(label.code, other_lang), group=label.group,
                       group_text=gettext(lang, GROUP_TEXT[label.group]),
                       group_style=GROUP_STYLE[label.group], text=page.text(lang), show_abcde=page.show_abcde,
                       sources=page.sources)
