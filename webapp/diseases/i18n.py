"""The language of a disease page, and the page furniture in both languages.

The language comes from the site (``webapp.core.i18n``: ``?lang=``, the ``lang`` cookie, Accept-Language, English);
``request_language`` here only narrows it to the languages the library is written in, so the controller never
depends on the site's mechanism directly. The long medical text lives in ``content`` (validated per language); the
short page furniture is below rather than in the gettext catalogues so that one review covers a whole page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from skin_models.labels import LesionGroup
from webapp.core.i18n import request_language as site_language
from webapp.diseases.schemas import LANGUAGES, Language


def request_language(request: Request[Any, Any, Any]) -> Language:
    """The site's language for this request, as one the library has ("en" or "ko")."""
    lang = site_language(request)
    return lang if lang in LANGUAGES else "en"  # type: ignore[return-value]


GROUP_TEXT: dict[Language, dict[LesionGroup, str]] = {
    "en": {
        LesionGroup.MALIGNANT: "Malignant: a skin cancer",
        LesionGroup.PRE_MALIGNANT: "Pre-malignant or in situ: can become an invasive skin cancer if left untreated",
        LesionGroup.BENIGN: "Benign: not cancer",
    },
    "ko": {
        LesionGroup.MALIGNANT: "악성: 피부암",
        LesionGroup.PRE_MALIGNANT: "전암성 또는 상피내 병변: 치료하지 않으면 침윤성 피부암으로 진행할 수 있음",
        LesionGroup.BENIGN: "양성: 암이 아님",
    },
}

GROUP_HEADING: dict[Language, dict[LesionGroup, str]] = {
    "en": {LesionGroup.MALIGNANT: "Malignant (skin cancers)",
           LesionGroup.PRE_MALIGNANT: "Pre-malignant and in situ",
           LesionGroup.BENIGN: "Benign (not cancer)"},
    "ko": {LesionGroup.MALIGNANT: "악성 (피부암)",
           LesionGroup.PRE_MALIGNANT: "전암성 및 상피내 병변",
           LesionGroup.BENIGN: "양성 (암이 아님)"},
}

UI_TEXT: dict[Language, dict[str, str]] = {
    "en": {
        "library_title": "Skin lesion library",
        "library_lead": "The seven kinds of skin lesion that Dr. Skin's model was trained to tell apart, what they "
                        "look like, and when to see a doctor.",
        "not_a_diagnosis": "This is information, not a diagnosis. Only a doctor who examines your skin, often "
                           "with a dermatoscope and sometimes a biopsy, can say what a spot is. If a spot is new, "
                           "changing, bleeding or not healing, or if it simply worries you, see a doctor.",
        "back_to_library": "All seven lesion types",
        "also_known_as": "Covers",
        "group": "Group",
        "class_code": "Class code",
        "what_it_is": "What it is",
        "appearance": "How it looks",
        "dermoscopy": "Under the dermatoscope",
        "dermoscopy_intro": "Dermoscopy is skin-surface microscopy with a hand-held lens and light. These are the "
                            "features doctors look for; they are a guide, not a self-test.",
        "causes": "Causes and risk factors",
        "prevention": "Prevention",
        "see_a_doctor": "When to see a doctor",
        "urgency": "How soon",
        "in_the_dataset": "In Dr. Skin's training data",
        "sources": "Sources",
        "source_in_other_language": "in Korean",
        "abcde_title": "The ABCDE rule and the ugly duckling sign",
        "abcde_a": "A, asymmetry: the two halves do not match.",
        "abcde_b": "B, border: ragged, notched or blurred edges.",
        "abcde_c": "C, colour: several colours or uneven shades.",
        "abcde_d": "D, diameter: larger than about 6 mm (but melanomas can be smaller).",
        "abcde_e": "E, evolving: any change in size, shape, colour or height, or new itching, bleeding or crusting.",
        "ugly_duckling": "The ugly duckling: a mole that looks different from all your other moles deserves a "
                         "doctor's look, even if it meets none of the ABCDE signs.",
        "not_found_title": "No such lesion type",
        "not_found_text": "There is no page for “{code}”. The library covers these seven lesion types:",
    },
    "ko": {
        "library_title": "피부 병변 정보",
        "library_lead": "Dr. Skin의 모델이 구별하도록 학습한 일곱 가지 피부 병변의 특징과 생김새, 그리고 언제 진료를 "
                        "받아야 하는지 알려 드립니다.",
        "not_a_diagnosis": "이 내용은 일반적인 정보이며 진단이 아닙니다. 병변이 무엇인지는 직접 진찰한 의사만 판단할 "
                           "수 있으며, 흔히 더모스코피(피부확대경) 검사와 때로는 조직검사가 필요합니다. 새로 생겼거나, "
                           "변하거나, 피가 나거나, 낫지 않는 병변이 있거나 걱정이 된다면 진료를 받으세요.",
        "back_to_library": "일곱 가지 병변 전체 보기",
        "also_known_as": "포함되는 질환",
        "group": "분류",
        "class_code": "분류 코드",
        "what_it_is": "어떤 질환인가요",
        "appearance": "어떻게 보이나요",
        "dermoscopy": "더모스코피 소견",
        "dermoscopy_intro": "더모스코피는 손에 드는 확대경과 조명으로 피부 표면을 자세히 보는 검사입니다. 아래는 "
                            "의사가 살펴보는 소견이며, 스스로 진단하기 위한 기준이 아닙니다.",
        "causes": "원인과 위험 요인",
        "prevention": "예방",
        "see_a_doctor": "이럴 때 진료를 받으세요",
        "urgency": "얼마나 빨리",
        "in_the_dataset": "Dr. Skin의 학습 자료에서",
        "sources": "참고 자료",
        "source_in_other_language": "영문 자료",
        "abcde_title": "ABCDE 규칙과 '미운 오리 새끼' 징후",
        "abcde_a": "A, 비대칭(Asymmetry): 병변의 두 절반이 서로 다릅니다.",
        "abcde_b": "B, 경계(Border): 가장자리가 들쭉날쭉하거나 패이거나 흐립니다.",
        "abcde_c": "C, 색(Colour): 여러 색이 섞여 있거나 색조가 고르지 않습니다.",
        "abcde_d": "D, 크기(Diameter): 지름이 6 mm 정도보다 큽니다(더 작은 흑색종도 있습니다).",
        "abcde_e": "E, 변화(Evolving): 크기·모양·색·높이가 변하거나, 새로 가렵거나 피가 나거나 딱지가 앉습니다.",
        "ugly_duckling": "'미운 오리 새끼' 징후: 다른 점들과 다르게 생긴 점은 ABCDE 징후가 없더라도 의사의 진찰을 받아 "
                         "보는 것이 좋습니다.",
        "not_found_title": "해당하는 병변 정보가 없습니다",
        "not_found_text": "“{code}”에 대한 페이지가 없습니다. 다음 일곱 가지 병변에 대한 정보를 제공합니다:",
    },
}

if UI_TEXT["en"].keys() != UI_TEXT["ko"].keys():  # a string missing in one language fails at start-up
    raise RuntimeError(f"UI_TEXT keys differ: {sorted(UI_TEXT['en'].keys() ^ UI_TEXT['ko'].keys())}")
