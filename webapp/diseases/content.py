"""The disease library's text, in English and Korean, one ``DiseasePage`` per diagnostic class.

Validated by pydantic on import (``webapp.diseases.schemas``), so a missing translation, an unknown class code or a
page without two sources stops the site at start-up. Names and groups are not repeated here: they come from
``skin_models.labels``. Written for patients; medical review is welcome, please keep the sources in step.
"""

from __future__ import annotations

from webapp.core.labels import CLASS_CODES
from webapp.diseases.schemas import DiseasePage, DiseaseText, LocalisedNote, Source

# Sources shared by several pages. Exact URLs only where we are sure the page exists; otherwise the organisation's
# root with a note saying what to look for there.
HAM10000 = Source(
    title="The HAM10000 dataset, a large collection of multi-source dermatoscopic images of common pigmented skin "
          "lesions (Sci Data 5:180161, 2018)",
    publisher="Tschandl P, Rosendahl C, Kittler H",
    url="https://doi.org/10.1038/sdata.2018.161",
)
KITTLER_BOOK = Source(
    title="Dermatoscopy: An algorithmic method based on pattern analysis (book)",
    publisher="Kittler H, Rosendahl C, Cameron A, Tschandl P (Facultas)",
    url="https://dermoscopedia.org/",
    note=LocalisedNote(en="The book is in print only; the link is dermoscopedia.org, the International Dermoscopy "
                          "Society's wiki, which describes the same dermoscopic structures online.",
                       ko="이 책은 인쇄본만 있으며, 링크는 같은 더모스코피 구조를 온라인으로 설명하는 "
                          "국제더모스코피학회의 위키(dermoscopedia.org)입니다."),
)
NICE_NG12 = Source(
    title="Suspected cancer: recognition and referral (NICE guideline NG12), skin cancers",
    publisher="National Institute for Health and Care Excellence (UK)",
    url="https://www.nice.org.uk/guidance/ng12",
)
BAD = Source(
    title="Patient information leaflets",
    publisher="British Association of Dermatologists",
    url="https://www.bad.org.uk/",
    note=LocalisedNote(en="Site root: see the patient information leaflets for this condition.",
                       ko="사이트 첫 화면: 환자용 안내문(patient information leaflets)에서 해당 질환을 찾아보세요."),
)
AAD = Source(
    title="Diseases and conditions A–Z: patient information",
    publisher="American Academy of Dermatology",
    url="https://www.aad.org/",
    note=LocalisedNote(en="Site root: search the public (patient) section for this condition.",
                       ko="사이트 첫 화면: 일반인용 정보에서 해당 질환을 검색하세요."),
)
KDA = Source(
    title="대한피부과학회 일반인을 위한 피부질환 정보",
    publisher="대한피부과학회 (Korean Dermatological Association)",
    url="https://www.derma.or.kr/",
    language="ko",
    note=LocalisedNote(en="Site root: the section for the public, by condition name.",
                       ko="사이트 첫 화면: 일반인을 위한 정보에서 질환명으로 찾아보세요."),
)
NCIC = Source(
    title="국가암정보센터: 피부암 (Skin cancer)",
    publisher="국립암센터 국가암정보센터 (National Cancer Information Center, Korea)",
    url="https://www.cancer.go.kr/",
    language="ko",
    note=LocalisedNote(en="Site root: search for skin cancer (피부암) or melanoma (흑색종).",
                       ko="사이트 첫 화면: '피부암' 또는 '흑색종'을 검색하세요."),
)


def _dermnet(topic: str, title: str) -> Source:
    return Source(title=title, publisher="DermNet", url=f"https://dermnetnz.org/topics/{topic}")


MELANOMA = DiseasePage(
    code="mel",
    show_abcde=True,
    en=DiseaseText(
        also_known_as=("Malignant melanoma", "Melanoma in situ (the earliest stage)"),
        summary="A cancer of the skin's pigment cells. Less common than other skin cancers but the most dangerous, "
                "because it can spread; found early, it is usually cured by a simple operation.",
        what_it_is=(
            "Melanoma is a malignant tumour of melanocytes, the cells that make the skin's brown pigment (melanin). "
            "It most often starts in normal-looking skin and less often in an existing mole.",
            "Melanoma can spread to lymph nodes and other organs. How deep it has grown when it is removed (the "
            "Breslow thickness) is the main guide to the outlook: thin melanomas removed early are usually cured.",
            "It occurs in every skin type. In people with darker skin, including most Koreans, melanoma is rarer and "
            "is found relatively more often on the soles, palms and under the nails (acral lentiginous melanoma), "
            "so those places deserve a look too.",
        ),
        appearance=(
            "A new dark spot, or a mole that changes in size, shape or colour.",
            "Often asymmetric, with an irregular or blurred border and several colours: light and dark brown, "
            "black, sometimes red, white or blue-grey.",
            "Some melanomas are raised, firm and grow within weeks (nodular melanoma); some have little or no "
            "pigment and look pink or red (amelanotic melanoma).",
            "On a sole or palm, a flat brown-black patch with an uneven edge; in a nail, a new or widening dark "
            "band, especially when the pigment spreads onto the skin around the nail (Hutchinson's sign).",
        ),
        dermoscopy=(
            "Atypical pigment network: lines of uneven thickness and colour that end abruptly.",
            "Irregular streaks (radial streaming and pseudopods) at the edge, in only part of the lesion.",
            "Irregular dots and globules of different sizes, scattered unevenly.",
            "Blue-white veil: a structureless blue area with a whitish, ground-glass haze, usually over a raised "
            "part.",
            "Regression structures: white scar-like areas and blue-grey peppering (fine grey dots).",
            "Multiple colours (three or more of light brown, dark brown, black, blue-grey, red and white) arranged "
            "without symmetry.",
            "Atypical vessels (irregular dotted and linear, or several kinds together), especially in amelanotic "
            "melanoma; on soles and palms, pigment on the ridges of the skin markings (parallel ridge pattern).",
        ),
        causes=(
            "Ultraviolet (UV) radiation from the sun and sunbeds, especially blistering sunburn in childhood and "
            "short, intense exposure on holiday.",
            "Fair skin that burns easily, red or fair hair, light eyes, many freckles.",
            "Many moles (more than about 50), several atypical (dysplastic) moles, or a large congenital mole.",
            "A previous melanoma, or melanoma in a parent, brother, sister or child.",
            "Weakened immunity (for example after an organ transplant) and increasing age.",
            "Melanoma of the soles, palms and nails is not clearly linked to the sun.",
        ),
        prevention=(
            "Avoid sunburn: seek shade in the middle of the day, wear clothing, a wide-brimmed hat and sunglasses, "
            "and use a broad-spectrum sunscreen of SPF 30 or more, applied generously and renewed every two hours "
            "and after swimming.",
            "Do not use sunbeds or tanning lamps.",
            "Protect children from sunburn.",
            "Check your whole skin once a month, including the scalp, palms, soles, nails and between the toes; "
            "photos make change easier to see. People at high risk may be offered regular checks by a doctor.",
        ),
        see_a_doctor=(
            "Any spot with one or more of the ABCDE signs, or one that looks different from your other moles (the "
            "ugly duckling).",
            "A new mole in an adult, especially after about 40, or a mole that changes in size, shape, colour or "
            "height.",
            "A spot that itches, bleeds, crusts or does not heal.",
            "A new or changing dark band in a nail, or a dark patch on a sole or palm.",
        ),
        urgency="Suspected melanoma is urgent: see a doctor within days, not weeks, and say that you are worried "
                "about melanoma. In the UK, NICE guideline NG12 asks family doctors to refer suspected melanoma on "
                "the suspected-cancer pathway (an appointment within two weeks). Do not wait to see whether it "
                "goes away.",
        in_the_dataset="1,113 of the 10,015 HAM10000 images are melanomas, in situ and invasive, photographed "
                       "through a dermatoscope in Austria and Australia. Melanomas of the soles, palms and nails "
                       "are rare in it, so the model knows them poorly.",
    ),
    ko=DiseaseText(
        also_known_as=("악성 흑색종", "상피내 흑색종(가장 초기 단계)"),
        summary="피부의 색소를 만드는 세포에서 생기는 암입니다. 다른 피부암보다 드물지만 전이할 수 있어 가장 위험하며, "
                "일찍 발견하면 대개 간단한 수술로 완치됩니다.",
        what_it_is=(
            "흑색종은 피부의 갈색 색소(멜라닌)를 만드는 멜라닌세포에서 생기는 악성 종양입니다. 대부분 정상으로 보이는 "
            "피부에서 새로 생기며, 기존의 점에서 생기는 경우는 상대적으로 적습니다.",
            "흑색종은 림프절과 다른 장기로 전이할 수 있습니다. 제거할 때 얼마나 깊이 자랐는지(브레슬로우 두께)가 "
            "예후를 가늠하는 가장 중요한 기준이며, 얇을 때 일찍 제거한 흑색종은 대개 완치됩니다.",
            "흑색종은 모든 피부색에서 생깁니다. 한국인처럼 피부색이 비교적 짙은 사람에게는 드물지만, 발바닥·손바닥·"
            "손발톱 밑에 생기는 말단흑자흑색종의 비율이 높으므로 이 부위도 꼭 살펴보아야 합니다.",
        ),
        appearance=(
            "새로 생긴 검은 반점, 또는 크기·모양·색이 변하는 점.",
            "흔히 비대칭이고, 경계가 불규칙하거나 흐리며, 연갈색·진갈색·검은색, 때로는 붉은색·흰색·청회색 등 여러 색이 "
            "섞여 있습니다.",
            "어떤 흑색종은 볼록하고 단단하며 몇 주 사이에 빨리 자라고(결절흑색종), 어떤 것은 색소가 거의 없어 "
            "분홍색이나 붉은색으로 보입니다(무색소흑색종).",
            "발바닥이나 손바닥에서는 경계가 고르지 않은 납작한 갈색~검은색 반점으로, 손발톱에서는 새로 생기거나 "
            "넓어지는 검은 세로줄로 나타나며, 색소가 손발톱 주위 피부로 번지면(허친슨 징후) 특히 의심해야 합니다.",
        ),
        dermoscopy=(
            "비전형 색소망: 굵기와 색이 고르지 않고 갑자기 끊기는 그물 모양의 선.",
            "불규칙한 선조(방사상 줄무늬, 위족): 병변 가장자리의 일부에만 나타나는 줄무늬.",
            "크기가 제각각이고 고르지 않게 흩어진 점과 소구.",
            "청백색 베일: 주로 솟아오른 부분 위에 보이는, 뿌연 유리를 덮은 듯한 구조 없는 푸른 부위.",
            "퇴행 구조: 흉터 같은 흰 부위와 청회색의 미세한 점(후추 뿌린 듯한 모양).",
            "연갈색·진갈색·검은색·청회색·붉은색·흰색 중 세 가지 이상의 색이 대칭성 없이 배열됨.",
            "비전형 혈관(불규칙한 점상·선상 혈관 또는 여러 형태의 혈관이 함께 보임): 특히 무색소흑색종에서 보이며, "
            "발바닥과 손바닥에서는 피부 무늬의 융기 부분을 따라 색소가 놓이는 피문융기 평행 양상이 특징입니다.",
        ),
        causes=(
            "햇빛과 인공 선탠 기기의 자외선, 특히 어린 시절 물집이 잡힐 정도의 일광화상과 휴가철의 짧고 강한 노출.",
            "햇볕에 쉽게 타는 흰 피부, 붉거나 밝은 머리색, 밝은 눈동자, 많은 주근깨.",
            "많은 점(약 50개 이상), 여러 개의 비정형(이형성) 모반, 또는 큰 선천성 모반.",
            "흑색종을 앓은 적이 있거나 부모·형제자매·자녀 중에 흑색종 환자가 있는 경우.",
            "면역 저하(예: 장기 이식 후)와 나이 증가.",
            "발바닥·손바닥·손발톱의 흑색종은 햇빛과의 관련성이 뚜렷하지 않습니다.",
        ),
        prevention=(
            "일광화상을 피하세요: 한낮에는 그늘을 찾고, 옷·챙이 넓은 모자·선글라스를 착용하며, SPF 30 이상의 광범위 "
            "자외선 차단제를 충분히 바르고 2시간마다, 그리고 물놀이 뒤에 다시 바릅니다.",
            "인공 선탠 기기를 사용하지 마세요.",
            "어린이가 햇볕에 타지 않도록 보호하세요.",
            "한 달에 한 번 두피·손바닥·발바닥·손발톱·발가락 사이까지 온몸의 피부를 살펴보세요. 사진을 찍어 두면 변화를 "
            "알아보기 쉽습니다. 고위험군은 의사에게 정기 검진을 받는 것이 좋습니다.",
        ),
        see_a_doctor=(
            "ABCDE 징후가 하나라도 있거나, 다른 점들과 다르게 생긴 점('미운 오리 새끼' 징후).",
            "성인, 특히 40세 이후에 새로 생긴 점, 또는 크기·모양·색·높이가 변하는 점.",
            "가렵거나, 피가 나거나, 딱지가 앉거나, 낫지 않는 병변.",
            "손발톱에 새로 생기거나 변하는 검은 세로줄, 또는 발바닥·손바닥의 검은 반점.",
        ),
        urgency="흑색종이 의심되면 급합니다. 몇 주가 아니라 며칠 안에 진료를 받고, 흑색종이 걱정된다고 분명히 "
                "말하세요. 영국 NICE 지침(NG12)은 흑색종이 의심되면 2주 안에 진료받도록 암 의심 경로로 의뢰하도록 "
                "권고합니다. 저절로 없어지는지 기다려 보지 마세요.",
        in_the_dataset="HAM10000의 10,015장 가운데 1,113장이 흑색종(상피내 및 침윤성)이며, 오스트리아와 호주에서 "
                       "더모스코프로 촬영되었습니다. 발바닥·손바닥·손발톱의 흑색종은 드물게 포함되어 있어 모델이 이를 "
                       "잘 알지 못합니다.",
    ),
    sources=(
        _dermnet("melanoma", "Melanoma"), NICE_NG12, AAD, BAD, KDA, NCIC, KITTLER_BOOK, HAM10000,
    ),
)

NEVUS = DiseasePage(
    code="nv",
    show_abcde=True,
    en=DiseaseText(
        also_known_as=("Mole", "Common melanocytic naevus (nevus)", "Congenital naevus", "Atypical (dysplastic) naevus",
                       "Blue naevus", "Spitz naevus"),
        summary="An ordinary mole: a harmless cluster of pigment cells. Most adults have between 10 and 40. Knowing "
                "your moles helps you notice the one that changes.",
        what_it_is=(
            "A melanocytic naevus (mole) is a benign growth of melanocytes, the pigment cells of the skin. Most "
            "appear in childhood and early adulthood; some are present from birth (congenital naevi).",
            "Moles can be flat or raised. Over decades they change slowly and evenly, often becoming raised and "
            "paler or disappearing in later life. Atypical (dysplastic) naevi are larger, irregular moles: they "
            "are benign but mark a higher risk of melanoma.",
            "Most melanomas start in normal skin rather than in a mole, and the chance that any single ordinary "
            "mole turns into melanoma is very small.",
        ),
        appearance=(
            "Round or oval, with a smooth, regular border.",
            "One colour or a few shades of it: skin-coloured, pink, tan, brown or dark brown; usually under 6 mm.",
            "Flat or dome-shaped, sometimes with hairs, and similar to the person's other moles.",
        ),
        dermoscopy=(
            "A regular pigment network: thin, evenly spaced lines that fade gradually towards the edge.",
            "Regular, evenly spread brown dots and globules (a globular pattern, common in children and young "
            "adults).",
            "Symmetry of colours and structures, usually with one or two colours.",
            "Variants: homogeneous blue (blue naevus); a starburst of regular streaks (Spitz or Reed naevus, which "
            "a specialist should assess in adults); comma-shaped vessels in raised skin-coloured moles; on palms "
            "and soles, pigment in the furrows of the skin markings (parallel furrow pattern).",
        ),
        causes=(
            "Genes: the number of moles runs in families.",
            "Sun exposure in childhood increases the number of moles.",
            "Fair skin; some moles are present from birth.",
        ),
        prevention=(
            "Sun protection in childhood reduces the number of moles that develop.",
            "Know your moles: a monthly self-check, with photos, makes a new or changing mole easy to spot.",
        ),
        see_a_doctor=(
            "A mole with ABCDE signs, or one that looks different from the others (the ugly duckling).",
            "A new mole after the age of about 40.",
            "A mole that changes, itches, bleeds or becomes painful.",
            "A large congenital mole should be followed by a dermatologist.",
        ),
        urgency="An ordinary mole that does not change needs no treatment and no urgent visit. A changing or "
                "odd-looking mole should be seen by a doctor within a few weeks, or within days if it bleeds or "
                "grows quickly, to make sure it is not a melanoma.",
        in_the_dataset="Melanocytic naevi are by far the largest HAM10000 class (6,705 of 10,015 images), many "
                       "confirmed by follow-up or expert consensus rather than biopsy; the class includes many "
                       "variants of naevus.",
    ),
    ko=DiseaseText(
        also_known_as=("점", "후천성 멜라닌세포모반", "선천성 멜라닌세포모반", "비정형(이형성) 모반", "청색모반",
                       "스피츠 모반"),
        summary="흔히 '점'이라고 부르는, 색소세포가 모인 양성 병변입니다. 성인은 대개 10~40개의 점이 있습니다. "
                "자신의 점을 잘 알아 두면 변하는 점을 알아차리기 쉽습니다.",
        what_it_is=(
            "멜라닌세포모반(점)은 피부의 색소세포인 멜라닌세포가 양성으로 증식한 것입니다. 대부분 어린 시절과 젊은 "
            "성인기에 생기며, 태어날 때부터 있는 점도 있습니다(선천성 모반).",
            "점은 납작하거나 볼록할 수 있습니다. 수십 년에 걸쳐 천천히 고르게 변하며, 나이가 들면 볼록해지고 색이 "
            "옅어지거나 없어지기도 합니다. 비정형(이형성) 모반은 크고 모양이 불규칙한 점으로, 양성이지만 흑색종 위험이 "
            "높다는 표지입니다.",
            "흑색종은 대부분 점이 아닌 정상 피부에서 새로 생기며, 평범한 점 하나가 흑색종으로 변할 가능성은 매우 "
            "낮습니다.",
        ),
        appearance=(
            "둥글거나 타원형이고 경계가 매끄럽고 규칙적입니다.",
            "한 가지 색 또는 같은 계열의 몇 가지 색조(살색·분홍색·황갈색·갈색·진갈색)이며, 대개 지름 6 mm 미만입니다.",
            "납작하거나 둥글게 솟아 있고, 털이 나 있기도 하며, 자신의 다른 점들과 비슷하게 생겼습니다.",
        ),
        dermoscopy=(
            "규칙적인 색소망: 가늘고 고르게 배열된 그물 모양의 선이 가장자리로 갈수록 서서히 옅어집니다.",
            "고르게 분포한 규칙적인 갈색 점과 소구(소구형 양상, 어린이와 젊은 성인에게 흔함).",
            "색과 구조가 대칭적이며 대개 한두 가지 색을 보입니다.",
            "변형: 균일한 푸른색(청색모반), 규칙적인 선조가 별 모양으로 퍼지는 양상(스피츠 모반 또는 리드 모반, "
            "성인에게 생기면 전문의 평가 필요), 볼록한 살색 점의 쉼표 모양 혈관, 손바닥·발바닥에서는 피부 무늬의 "
            "고랑을 따라 색소가 놓이는 피구 평행 양상.",
        ),
        causes=(
            "유전: 점의 개수는 가족 간에 비슷한 경향이 있습니다.",
            "어린 시절의 햇빛 노출은 점의 개수를 늘립니다.",
            "흰 피부; 일부 점은 태어날 때부터 있습니다.",
        ),
        prevention=(
            "어린 시절 자외선을 차단하면 새로 생기는 점의 수가 줄어듭니다.",
            "자신의 점을 알아 두세요: 한 달에 한 번 사진과 함께 스스로 살펴보면 새로 생기거나 변하는 점을 쉽게 찾을 수 "
            "있습니다.",
        ),
        see_a_doctor=(
            "ABCDE 징후가 있거나 다른 점들과 다르게 생긴 점('미운 오리 새끼' 징후).",
            "40세 무렵 이후에 새로 생긴 점.",
            "변하거나, 가렵거나, 피가 나거나, 아파지는 점.",
            "큰 선천성 모반은 피부과 전문의의 정기적인 관찰이 필요합니다.",
        ),
        urgency="변화가 없는 평범한 점은 치료나 급한 진료가 필요 없습니다. 변하거나 이상하게 생긴 점은 흑색종이 아닌지 "
                "확인하기 위해 몇 주 안에 진료를 받고, 피가 나거나 빨리 자라면 며칠 안에 진료를 받으세요.",
        in_the_dataset="멜라닌세포모반은 HAM10000에서 가장 큰 분류(10,015장 중 6,705장)이며, 조직검사보다는 추적 "
                       "관찰이나 전문가 합의로 확인된 경우가 많고 다양한 변형이 포함되어 있습니다.",
    ),
    sources=(
        _dermnet("melanocytic-naevus", "Melanocytic naevus"), AAD, BAD, KDA, KITTLER_BOOK, HAM10000,
    ),
)

BASAL_CELL_CARCINOMA = DiseasePage(
    code="bcc",
    show_abcde=False,
    en=DiseaseText(
        also_known_as=("Basal cell carcinoma (BCC)", "Rodent ulcer",
                       "Nodular, superficial, pigmented and morphoeic (infiltrative) BCC"),
        summary="The most common skin cancer. It grows slowly and almost never spreads to other organs, but left "
                "alone it destroys the tissue around it; treatment is usually simple and curative.",
        what_it_is=(
            "Basal cell carcinoma is a malignant tumour of the basal cells at the bottom of the epidermis. It is "
            "the most common cancer in fair-skinned people and the most common skin cancer in Korea.",
            "It grows slowly, over months to years. Spread to other organs is very rare, but a neglected BCC can "
            "grow deep into the tissue, which matters most around the eyes, nose, lips and ears.",
            "In darker skin, including Korean skin, BCCs are often pigmented (brown to black), so they can look "
            "like a mole or a melanoma.",
        ),
        appearance=(
            "A shiny, pearly or translucent bump with fine visible blood vessels, often on the face.",
            "A sore that bleeds, crusts, seems to heal and comes back, or never heals.",
            "A pink, slightly scaly flat patch, often on the trunk (superficial BCC).",
            "A firm, pale, scar-like area with poorly defined edges (morphoeic BCC).",
            "In Asian skin, often a black or dark brown shiny bump with a rolled, pearly edge.",
        ),
        dermoscopy=(
            "Arborising vessels: sharply focused, bright red blood vessels that branch like a tree.",
            "Leaf-like areas and spoke-wheel areas at the edge of pigmented BCCs.",
            "Large blue-grey ovoid nests and multiple blue-grey globules.",
            "Ulceration or several small erosions, often crusted, and shiny white structures.",
            "No pigment network, a clue that the lesion is not made of melanocytes.",
            "Superficial BCC: short fine vessels (telangiectasias) and small erosions on a pink background.",
        ),
        causes=(
            "Lifelong UV exposure and sunburn: most BCCs appear on the head and neck.",
            "Fair skin, older age, male sex, outdoor work.",
            "A previous BCC: many people go on to develop another one.",
            "Past radiotherapy, arsenic exposure, weakened immunity and rare inherited conditions (such as Gorlin "
            "syndrome).",
        ),
        prevention=(
            "Sun protection throughout life: shade, clothing, a hat and broad-spectrum SPF 30+ sunscreen; no "
            "sunbeds.",
            "After a BCC, check your skin regularly and keep the follow-up visits your dermatologist advises.",
        ),
        see_a_doctor=(
            "A sore or spot that has not healed within about four weeks, or that bleeds again and again.",
            "A shiny, pearly bump or a slowly growing pink patch.",
            "A new dark, shiny bump on the face in an adult.",
        ),
        urgency="See a doctor within a few weeks. BCC is not an emergency, because it grows slowly and rarely "
                "spreads, but it should not be left: the earlier it is treated, the smaller the operation and the "
                "scar. Go sooner for a spot near the eye, nose, lip or ear. NICE guideline NG12 advises routine, "
                "not urgent, referral for most suspected BCCs.",
        in_the_dataset="514 of the 10,015 HAM10000 images are BCCs. The collection is of pigmented lesions, so "
                       "pigmented BCCs are well represented and pink, non-pigmented ones less so.",
    ),
    ko=DiseaseText(
        also_known_as=("기저세포암", "결절형·표재형·색소형·경화형(침윤형) 기저세포암"),
        summary="가장 흔한 피부암입니다. 천천히 자라고 다른 장기로 전이하는 일은 거의 없지만, 방치하면 주변 조직을 "
                "파괴합니다. 치료는 대개 간단하며 완치됩니다.",
        what_it_is=(
            "기저세포암은 표피의 가장 아래층에 있는 기저세포에서 생기는 악성 종양입니다. 피부가 흰 사람에게 가장 흔한 "
            "암이며, 우리나라에서도 가장 흔한 피부암입니다.",
            "몇 달에서 몇 년에 걸쳐 천천히 자랍니다. 다른 장기로 전이하는 일은 매우 드물지만, 방치하면 깊이 파고들 수 "
            "있어 눈·코·입술·귀 주위에서는 특히 문제가 됩니다.",
            "한국인처럼 피부색이 짙은 경우 기저세포암은 흔히 갈색~검은색 색소를 띠어 점이나 흑색종처럼 보일 수 "
            "있습니다.",
        ),
        appearance=(
            "가는 혈관이 비치는, 반짝이고 진주처럼 광택이 있거나 반투명한 구진(주로 얼굴).",
            "피가 나고 딱지가 앉았다가 나은 듯하다가 다시 생기거나, 전혀 낫지 않는 상처.",
            "주로 몸통에 생기는, 약간의 인설이 있는 납작한 분홍색 반(표재형 기저세포암).",
            "경계가 불분명하고 단단하며 창백한 흉터 같은 부위(경화형 기저세포암).",
            "동양인에게는 가장자리가 진주처럼 말려 올라간, 광택 있는 검은색 또는 진갈색 구진으로 흔히 나타납니다.",
        ),
        dermoscopy=(
            "수지상 혈관: 나뭇가지처럼 갈라지는, 초점이 선명한 밝은 붉은색 혈관.",
            "색소성 기저세포암 가장자리의 잎 모양 구조와 바퀴살 모양 구조.",
            "큰 청회색 난원형 둥지와 여러 개의 청회색 소구.",
            "궤양 또는 딱지가 앉은 여러 개의 작은 미란, 광택성 백색 구조.",
            "색소망이 없음: 멜라닌세포 병변이 아니라는 단서입니다.",
            "표재형 기저세포암: 분홍색 바탕에 짧고 가는 혈관(모세혈관확장)과 작은 미란.",
        ),
        causes=(
            "평생에 걸친 자외선 노출과 일광화상: 대부분 머리와 목에 생깁니다.",
            "흰 피부, 고령, 남성, 야외 작업.",
            "기저세포암을 앓은 적이 있는 경우: 또 다른 기저세포암이 생기는 사람이 많습니다.",
            "과거의 방사선 치료, 비소 노출, 면역 저하, 드문 유전 질환(예: 고린 증후군).",
        ),
        prevention=(
            "평생 자외선 차단: 그늘, 옷, 모자, SPF 30 이상의 광범위 자외선 차단제를 사용하고 인공 선탠은 피하세요.",
            "기저세포암 치료 뒤에는 스스로 피부를 정기적으로 살피고, 피부과 전문의가 권하는 추적 진료를 받으세요.",
        ),
        see_a_doctor=(
            "4주 정도 지나도 낫지 않거나 반복해서 피가 나는 상처나 병변.",
            "반짝이는 진주 같은 구진, 또는 천천히 커지는 분홍색 반.",
            "성인의 얼굴에 새로 생긴 광택 있는 검은 구진.",
        ),
        urgency="몇 주 안에 진료를 받으세요. 기저세포암은 천천히 자라고 전이가 드물어 응급은 아니지만 방치해서는 안 "
                "됩니다. 일찍 치료할수록 수술 범위와 흉터가 작아집니다. 눈·코·입술·귀 근처라면 더 서둘러 진료를 "
                "받으세요. 영국 NICE 지침(NG12)은 기저세포암이 의심되는 대부분의 경우 긴급이 아닌 일반 의뢰를 "
                "권고합니다.",
        in_the_dataset="HAM10000의 10,015장 가운데 514장이 기저세포암입니다. 색소성 병변 위주의 자료이므로 색소성 "
                       "기저세포암은 잘 포함되어 있지만, 색소가 없는 분홍색 기저세포암은 적습니다.",
    ),
    sources=(
        _dermnet("basal-cell-carcinoma", "Basal cell carcinoma"), NICE_NG12, BAD, AAD, KDA, NCIC, KITTLER_BOOK,
        HAM10000,
    ),
)

ACTINIC_KERATOSIS = DiseasePage(
    code="akiec",
    show_abcde=False,
    en=DiseaseText(
        also_known_as=("Actinic keratosis (solar keratosis)",
                       "Bowen's disease (intraepidermal carcinoma, squamous cell carcinoma in situ)"),
        summary="Sun-damage lesions of the outer skin layer. Actinic keratoses are pre-cancerous; Bowen's disease "
                "is a skin cancer still confined to the epidermis (in situ). Both can progress to invasive squamous "
                "cell carcinoma and are worth treating.",
        what_it_is=(
            "This class joins two related conditions of keratinocytes, the main cells of the epidermis: actinic "
            "keratosis and intraepithelial carcinoma (Bowen's disease).",
            "An actinic keratosis is a rough, scaly patch caused by years of sun damage. It is pre-malignant: most "
            "never become cancer and some disappear, but a small proportion turn into invasive squamous cell "
            "carcinoma, and having them shows that the skin has had enough sun to raise the risk of every skin "
            "cancer.",
            "Bowen's disease is squamous cell carcinoma in situ: abnormal cells fill the whole thickness of the "
            "epidermis but have not invaded the dermis below. Without treatment a small proportion (about 3 to 5 "
            "in 100) becomes invasive squamous cell carcinoma.",
        ),
        appearance=(
            "Actinic keratosis: a rough, dry, scaly spot, skin-coloured, pink or red-brown, often easier to feel "
            "(like sandpaper) than to see; usually several, on the face, scalp, ears, backs of the hands and "
            "forearms.",
            "Bowen's disease: a slowly growing, well-defined, red, scaly flat patch from a few millimetres to "
            "several centimetres across, often on the lower legs, face or hands; easily mistaken for eczema or "
            "psoriasis.",
            "Either can be pigmented (brown), especially in darker skin.",
        ),
        dermoscopy=(
            "Actinic keratosis on the face: the strawberry pattern, a red pseudo-network of vessels around the hair "
            "follicles with white-yellow follicle openings.",
            "Rosettes: four white points arranged like a four-leaf clover, seen with polarised light.",
            "White-yellow surface scale.",
            "Bowen's disease: glomerular (coiled) vessels, often in clusters, with scale; pigmented Bowen's disease "
            "may show brown-grey dots arranged in lines.",
        ),
        causes=(
            "Cumulative ultraviolet exposure over many years: outdoor work and hobbies.",
            "Fair skin, older age, a bald scalp.",
            "Weakened immunity: organ transplant recipients get many more.",
            "For Bowen's disease also human papillomavirus (genital and nail-fold lesions), past arsenic exposure "
            "and radiotherapy.",
        ),
        prevention=(
            "Sun protection every day on exposed skin: a hat, clothing and broad-spectrum SPF 30+ sunscreen.",
            "Treating actinic keratoses (freezing, creams, photodynamic therapy) and regular skin checks lower the "
            "chance that one progresses unnoticed.",
        ),
        see_a_doctor=(
            "A rough, scaly spot on sun-exposed skin that does not go away.",
            "A red, scaly patch that does not improve with eczema creams.",
            "Any patch that becomes thick, tender or painful, bleeds, ulcerates or grows quickly: these can be "
            "signs of invasive squamous cell carcinoma.",
        ),
        urgency="Make a routine appointment (within a few weeks) for a persistent rough or scaly spot. Be seen "
                "urgently, within about two weeks, if it turns into a growing, tender or bleeding lump, which may "
                "be invasive squamous cell carcinoma; NICE guideline NG12 recommends the suspected-cancer pathway "
                "for suspected squamous cell carcinoma.",
        in_the_dataset="327 of the 10,015 HAM10000 images are AKIEC: actinic keratoses and intraepithelial "
                       "carcinoma (Bowen's disease), many of them pigmented. Dr. Skin counts this class as "
                       "pre-malignant and as concerning in its triage.",
    ),
    ko=DiseaseText(
        also_known_as=("광선각화증(일광각화증)", "보웬병(상피내 편평세포암)"),
        summary="햇빛 손상으로 피부 바깥층에 생기는 병변입니다. 광선각화증은 전암성 병변이고, 보웬병은 표피 안에 "
                "머물러 있는 피부암(상피내암)입니다. 둘 다 침윤성 편평세포암으로 진행할 수 있어 치료하는 것이 "
                "좋습니다.",
        what_it_is=(
            "이 분류는 표피의 주된 세포인 각질형성세포에서 생기는, 서로 관련된 두 질환인 광선각화증과 "
            "상피내암(보웬병)을 함께 묶은 것입니다.",
            "광선각화증은 오랜 햇빛 손상으로 생기는 거칠고 각질이 일어나는 반점입니다. 전암성 병변으로, 대부분은 암이 "
            "되지 않고 일부는 저절로 없어지지만 일부는 침윤성 편평세포암으로 진행합니다. 또한 광선각화증이 있다는 것은 "
            "모든 피부암의 위험이 높아질 만큼 햇빛에 노출되었다는 뜻입니다.",
            "보웬병은 상피내 편평세포암입니다. 비정상 세포가 표피 전체 두께를 채우고 있지만 아래의 진피로는 침범하지 "
            "않은 상태입니다. 치료하지 않으면 일부(100명 중 약 3~5명)가 침윤성 편평세포암으로 진행합니다.",
        ),
        appearance=(
            "광선각화증: 살색·분홍색·적갈색의 거칠고 건조한 인설성 반점으로, 눈으로 보기보다 손으로 만질 때(사포 같은 "
            "느낌) 더 잘 알 수 있습니다. 대개 얼굴·두피·귀·손등·팔뚝에 여러 개 생깁니다.",
            "보웬병: 천천히 커지는, 경계가 뚜렷한 붉은 인설성 판으로 크기는 몇 밀리미터에서 몇 센티미터까지이며, 주로 "
            "종아리·얼굴·손에 생깁니다. 습진이나 건선으로 오인되기 쉽습니다.",
            "둘 다 갈색 색소를 띨 수 있으며, 피부색이 짙을수록 더 그렇습니다.",
        ),
        dermoscopy=(
            "얼굴의 광선각화증: 딸기 모양 양상 — 모낭 주위를 둘러싼 붉은 혈관의 가성 그물과 흰색·노란색 모낭 입구.",
            "로제트: 편광 조명에서 보이는, 네잎클로버처럼 배열된 네 개의 흰 점.",
            "흰색·노란색의 표면 인설.",
            "보웬병: 흔히 무리 지어 나타나는 사구체 모양(꼬인) 혈관과 인설. 색소성 보웬병에서는 선상으로 배열된 "
            "갈색·회색 점이 보일 수 있습니다.",
        ),
        causes=(
            "수년간 누적된 자외선 노출: 야외 작업과 야외 활동.",
            "흰 피부, 고령, 탈모된 두피.",
            "면역 저하: 장기 이식 환자에게 훨씬 많이 생깁니다.",
            "보웬병은 이 밖에 인유두종바이러스(생식기·손발톱 주위 병변), 과거의 비소 노출, 방사선 치료와도 관련됩니다.",
        ),
        prevention=(
            "노출 부위는 매일 자외선을 차단하세요: 모자, 옷, SPF 30 이상의 광범위 자외선 차단제.",
            "광선각화증을 치료(냉동치료, 바르는 약, 광역학치료)하고 정기적으로 피부를 검진하면 모르는 사이에 진행할 "
            "가능성이 줄어듭니다.",
        ),
        see_a_doctor=(
            "햇빛 노출 부위에 생겨 없어지지 않는 거칠고 각질이 일어나는 반점.",
            "습진 연고를 발라도 좋아지지 않는 붉은 인설성 반.",
            "두꺼워지거나, 누르면 아프거나, 통증이 있거나, 피가 나거나, 궤양이 생기거나, 빨리 커지는 병변: 침윤성 "
            "편평세포암의 징후일 수 있습니다.",
        ),
        urgency="없어지지 않는 거칠거나 각질이 있는 반점은 몇 주 안에 일반 진료를 예약하세요. 커지거나, 누르면 "
                "아프거나, 피가 나는 혹으로 변하면 침윤성 편평세포암일 수 있으므로 2주 안에 서둘러 진료를 받으세요. "
                "영국 NICE 지침(NG12)은 편평세포암이 의심되면 암 의심 경로로 의뢰하도록 권고합니다.",
        in_the_dataset="HAM10000의 10,015장 가운데 327장이 이 분류(AKIEC)로, 광선각화증과 상피내암(보웬병)이며 색소성 "
                       "병변이 많습니다. Dr. Skin은 이 분류를 전암성으로, 분류 결과에서 '주의가 필요한' 분류로 "
                       "취급합니다.",
    ),
    sources=(
        _dermnet("actinic-keratosis", "Actinic keratosis"),
        _dermnet("intraepidermal-squamous-cell-carcinoma", "Intraepidermal squamous cell carcinoma (Bowen disease)"),
        NICE_NG12, BAD, AAD, KDA, KITTLER_BOOK, HAM10000,
    ),
)

BENIGN_KERATOSIS = DiseasePage(
    code="bkl",
    show_abcde=True,
    en=DiseaseText(
        also_known_as=("Seborrhoeic keratosis (seborrheic keratosis)", "Solar lentigo (age spot)",
                       "Lichen planus-like keratosis (benign lichenoid keratosis)"),
        summary="Three common, harmless growths that can look like melanoma: seborrhoeic keratosis, solar lentigo "
                "and lichen planus-like keratosis. They are not cancer.",
        what_it_is=(
            "This class groups three benign (non-cancerous) lesions of keratinocytes that look alike under the "
            "dermatoscope and are often related to each other.",
            "Seborrhoeic keratosis is a very common 'stuck-on' growth of older skin, from skin-coloured to black. "
            "Many people have dozens. They do not turn into cancer.",
            "Solar lentigo (age spot, liver spot) is a flat, evenly brown patch on skin that has had years of sun. "
            "It can slowly thicken into a seborrhoeic keratosis.",
            "Lichen planus-like keratosis is a single solar lentigo or seborrhoeic keratosis that the immune system "
            "is attacking and clearing: it turns pink-red or grey and may then fade. Because it can look like a "
            "melanoma or a basal cell carcinoma, it is often biopsied.",
        ),
        appearance=(
            "Seborrhoeic keratosis: a sharply outlined, raised growth with a waxy, rough or crumbly surface that "
            "looks stuck on, tan to dark brown or black, from a few millimetres to several centimetres, on the "
            "trunk, face and scalp.",
            "Solar lentigo: a flat, light- to dark-brown patch with a clear edge on the face, backs of the hands, "
            "forearms and upper back.",
            "Lichen planus-like keratosis: a single pink, red-brown or grey, flat or slightly raised patch, often on "
            "the chest or arms, sometimes mildly itchy.",
        ),
        dermoscopy=(
            "Milia-like cysts: round white-yellow dots that shine like small stars.",
            "Comedo-like openings: brown-black plugged pores.",
            "Fissures and ridges that give a 'brain-like' (cerebriform) pattern.",
            "Sharp demarcation from the surrounding skin; looped (hairpin) vessels with a white halo.",
            "Solar lentigo: light-brown homogeneous areas, fingerprint-like lines and a moth-eaten border (a sharp, "
            "scalloped edge).",
            "Lichen planus-like keratosis: blue-grey granular dots (peppering), diffuse or in patches, sometimes "
            "with remains of the original lentigo or keratosis.",
        ),
        causes=(
            "Age: seborrhoeic keratoses and solar lentigines become common after 40 to 50.",
            "Sun exposure: strongly for solar lentigo, partly for seborrhoeic keratosis.",
            "A family tendency to many seborrhoeic keratoses.",
            "Lichen planus-like keratosis is an immune (inflammatory) reaction inside an existing lentigo or "
            "keratosis.",
        ),
        prevention=(
            "Sun protection reduces new solar lentigines.",
            "Seborrhoeic keratoses cannot really be prevented; they are harmless, and removal is only needed when "
            "they are irritated or for cosmetic reasons.",
        ),
        see_a_doctor=(
            "A new or changing pigmented spot you are not sure about: a melanoma can look like a seborrhoeic "
            "keratosis, and lentigo maligna (an early melanoma of sun-damaged facial skin) looks like a solar "
            "lentigo.",
            "A spot that looks different from your other age spots (the ugly duckling), grows quickly, bleeds or "
            "stays inflamed.",
            "A sudden crop of many new seborrhoeic keratoses, which is rare but worth mentioning to a doctor.",
        ),
        urgency="These lesions are harmless and treatment is optional; once a doctor has identified them there is "
                "no urgency. A spot you are unsure about should be seen within a few weeks, sooner if it changes "
                "fast or bleeds.",
        in_the_dataset="1,099 of the 10,015 HAM10000 images are BKL: solar lentigines, seborrhoeic keratoses and "
                       "lichen planus-like keratoses. It is the benign class most often confused with melanoma, by "
                       "people and by models alike.",
    ),
    ko=DiseaseText(
        also_known_as=("지루각화증", "일광흑자(노인성 흑자)", "편평태선양 각화증"),
        summary="흑색종과 비슷해 보일 수 있는 흔하고 무해한 세 가지 병변, 지루각화증·일광흑자·편평태선양 각화증을 묶은 "
                "분류입니다. 흔히 '검버섯'이라고 부르는 병변이 여기에 속하며, 암이 아닙니다.",
        what_it_is=(
            "이 분류는 더모스코프로 보았을 때 서로 비슷하고 흔히 서로 관련된, 각질형성세포의 양성(암이 아닌) 병변 세 "
            "가지를 묶은 것입니다.",
            "지루각화증은 나이 든 피부에 매우 흔한, 피부에 '붙어 있는 듯한' 병변으로 살색에서 검은색까지 다양합니다. "
            "수십 개가 있는 사람도 많으며, 암으로 변하지 않습니다.",
            "일광흑자는 오랫동안 햇빛에 노출된 피부에 생기는 납작하고 고르게 갈색인 반점입니다. 서서히 두꺼워져 "
            "지루각화증이 되기도 합니다.",
            "편평태선양 각화증은 일광흑자나 지루각화증 하나를 면역계가 공격해 없애는 과정에서 생기며, 분홍빛이 도는 "
            "붉은색이나 회색으로 변한 뒤 옅어지기도 합니다. 흑색종이나 기저세포암처럼 보일 수 있어 조직검사를 하는 "
            "경우가 많습니다.",
        ),
        appearance=(
            "지루각화증: 경계가 뚜렷하고 솟아 있으며 표면이 밀랍 같거나 거칠고 부스러지는, 피부에 붙인 듯한 "
            "병변입니다. 황갈색에서 진갈색·검은색까지이고 크기는 몇 밀리미터에서 몇 센티미터이며 몸통·얼굴·두피에 "
            "생깁니다.",
            "일광흑자: 얼굴·손등·팔뚝·등 위쪽에 생기는, 경계가 분명한 연갈색~진갈색의 납작한 반점.",
            "편평태선양 각화증: 주로 가슴이나 팔에 하나만 생기는 분홍색·적갈색·회색의 납작하거나 약간 솟은 반으로, "
            "가볍게 가려울 수 있습니다.",
        ),
        dermoscopy=(
            "비립종 유사 낭종: 작은 별처럼 빛나는 둥근 흰색·노란색 점.",
            "면포 유사 개구부: 갈색·검은색 각질이 막힌 구멍.",
            "'뇌 모양(뇌회 모양)' 양상을 만드는 열구와 융기.",
            "주변 피부와의 뚜렷한 경계, 흰 테두리가 있는 머리핀 모양 혈관.",
            "일광흑자: 균일한 연갈색 부위, 지문 모양의 선, 좀먹은 듯한 경계(날카롭게 오목하게 파인 가장자리).",
            "편평태선양 각화증: 전체 또는 일부에 퍼진 청회색 과립 모양의 점(후추 뿌린 듯한 양상)이 보이며, 원래의 "
            "흑자나 각화증의 흔적이 남아 있기도 합니다.",
        ),
        causes=(
            "나이: 지루각화증과 일광흑자는 40~50대 이후에 흔해집니다.",
            "햇빛 노출: 일광흑자와 밀접하게, 지루각화증과는 부분적으로 관련됩니다.",
            "지루각화증이 많이 생기는 가족적 경향.",
            "편평태선양 각화증은 기존의 흑자나 각화증 안에서 일어나는 면역(염증) 반응입니다.",
        ),
        prevention=(
            "자외선 차단은 새로운 일광흑자를 줄여 줍니다.",
            "지루각화증은 사실상 예방하기 어렵습니다. 무해하므로 자극을 받거나 미용상 원할 때에만 제거하면 됩니다.",
        ),
        see_a_doctor=(
            "확실하지 않은, 새로 생기거나 변하는 색소 병변: 흑색종이 지루각화증처럼 보일 수 있고, 햇빛 손상을 받은 "
            "얼굴 피부의 초기 흑색종인 악성 흑자는 일광흑자처럼 보입니다.",
            "다른 검버섯과 다르게 생겼거나('미운 오리 새끼' 징후), 빨리 커지거나, 피가 나거나, 염증이 계속되는 병변.",
            "지루각화증이 갑자기 한꺼번에 많이 생기는 경우: 드물지만 의사에게 알리는 것이 좋습니다.",
        ),
        urgency="이 병변들은 무해하며 치료는 선택 사항입니다. 의사가 확인한 뒤에는 서두를 필요가 없습니다. 확실하지 "
                "않은 병변은 몇 주 안에 진료를 받고, 빠르게 변하거나 피가 나면 더 일찍 받으세요.",
        in_the_dataset="HAM10000의 10,015장 가운데 1,099장이 이 분류(BKL)로, 일광흑자·지루각화증·편평태선양 각화증이 "
                       "포함됩니다. 사람과 모델 모두 흑색종과 가장 자주 혼동하는 양성 분류입니다.",
    ),
    sources=(
        _dermnet("seborrhoeic-keratosis", "Seborrhoeic keratosis"),
        _dermnet("solar-lentigo", "Solar lentigo"),
        _dermnet("lichen-planus-like-keratosis", "Lichen planus-like keratosis"),
        BAD, AAD, KDA, KITTLER_BOOK, HAM10000,
    ),
)

DERMATOFIBROMA = DiseasePage(
    code="df",
    show_abcde=False,
    en=DiseaseText(
        also_known_as=("Dermatofibroma", "Benign fibrous histiocytoma"),
        summary="A small, firm, harmless lump in the skin, often on the legs, that dimples when pinched. It is "
                "benign.",
        what_it_is=(
            "A dermatofibroma is a common benign growth of fibrous tissue in the dermis. It is not cancer and does "
            "not turn into cancer.",
            "It sometimes follows a minor injury such as an insect bite, a splinter or a shaving cut, but often no "
            "cause is found. It usually stays the same for years.",
        ),
        appearance=(
            "A firm, small (usually under 1 cm) bump or flat button in the skin, pink, red-brown or brown, often "
            "with a paler centre.",
            "Most often on the lower legs, also on the arms and trunk; most common in young and middle-aged adults, "
            "especially women.",
            "Dimple sign: pinching the skin at its sides makes the centre sink inwards.",
            "Usually painless; it may itch or be tender when knocked.",
        ),
        dermoscopy=(
            "A central white patch that looks like a scar.",
            "A delicate, fine, light-brown pigment network around the edge.",
            "Sometimes ring-like globules or dotted vessels; the overall pattern is usually symmetric.",
        ),
        causes=(
            "A minor skin injury (insect bite, inflamed hair follicle, splinter) in some people; often the cause is "
            "unknown.",
            "Many dermatofibromas at once occasionally go with an altered immune system (for example lupus, HIV or "
            "immunosuppressive treatment).",
        ),
        prevention=(
            "There is no reliable way to prevent dermatofibromas, and there is no need to: they are harmless.",
        ),
        see_a_doctor=(
            "Any new firm lump, to confirm what it is.",
            "A lump that keeps growing, becomes larger than about 2 cm, changes colour, bleeds or comes back after "
            "removal: rare look-alikes such as dermatofibrosarcoma protuberans or melanoma must be excluded.",
        ),
        urgency="Once a doctor has confirmed it there is no urgency, and treatment is optional (removal leaves a "
                "scar, often larger than the lump). A growing or changing lump should be seen within a few weeks.",
        in_the_dataset="DF is the smallest HAM10000 class (115 of 10,015 images), so the model has seen few "
                       "examples and its estimate for this class is less reliable.",
    ),
    ko=DiseaseText(
        also_known_as=("피부섬유종", "양성 섬유조직구종"),
        summary="주로 다리에 생기는 작고 단단한 무해한 멍울로, 옆에서 집으면 가운데가 움푹 들어갑니다. 양성입니다.",
        what_it_is=(
            "피부섬유종은 진피의 섬유 조직이 양성으로 증식한 흔한 병변입니다. 암이 아니며 암으로 변하지도 않습니다.",
            "벌레 물림, 가시, 면도 상처 같은 작은 외상 뒤에 생기기도 하지만 원인을 찾지 못하는 경우가 많습니다. 대개 "
            "몇 년 동안 변하지 않습니다.",
        ),
        appearance=(
            "단단하고 작은(대개 1 cm 미만) 구진이나 납작한 단추 모양의 병변으로, 분홍색·적갈색·갈색이며 가운데가 더 "
            "옅은 경우가 많습니다.",
            "주로 종아리에 생기고 팔과 몸통에도 생기며, 젊은 성인과 중년, 특히 여성에게 흔합니다.",
            "보조개 징후: 병변 양옆의 피부를 집으면 가운데가 안쪽으로 움푹 들어갑니다.",
            "대개 통증이 없지만 가렵거나 부딪히면 아플 수 있습니다.",
        ),
        dermoscopy=(
            "흉터처럼 보이는 중앙의 흰 부위.",
            "가장자리를 둘러싼 섬세하고 가는 연갈색 색소망.",
            "때때로 고리 모양 소구나 점상 혈관이 보이며, 전체 양상은 대개 대칭적입니다.",
        ),
        causes=(
            "일부에서는 작은 피부 외상(벌레 물림, 모낭염, 가시)이 원인이며, 원인을 모르는 경우가 많습니다.",
            "여러 개가 한꺼번에 생기는 경우 드물게 면역 이상(예: 루푸스, HIV, 면역억제 치료)과 관련됩니다.",
        ),
        prevention=(
            "피부섬유종을 확실히 예방하는 방법은 없으며, 무해하므로 예방할 필요도 없습니다.",
        ),
        see_a_doctor=(
            "새로 생긴 단단한 멍울은 무엇인지 확인하기 위해 진료를 받으세요.",
            "계속 커지거나, 2 cm 정도보다 커지거나, 색이 변하거나, 피가 나거나, 제거 후 다시 생기는 경우: 융기성 "
            "피부섬유육종이나 흑색종처럼 드물지만 비슷해 보이는 질환을 배제해야 합니다.",
        ),
        urgency="의사가 확인한 뒤에는 서두를 필요가 없으며 치료는 선택 사항입니다(제거하면 병변보다 큰 흉터가 남는 "
                "경우가 많습니다). 커지거나 변하는 멍울은 몇 주 안에 진료를 받으세요.",
        in_the_dataset="피부섬유종은 HAM10000에서 가장 작은 분류(10,015장 중 115장)여서 모델이 본 예가 적고, 이 분류에 "
                       "대한 추정은 신뢰도가 낮습니다.",
    ),
    sources=(
        _dermnet("dermatofibroma", "Dermatofibroma"), BAD, AAD, KDA, KITTLER_BOOK, HAM10000,
    ),
)

VASCULAR_LESION = DiseasePage(
    code="vasc",
    show_abcde=False,
    en=DiseaseText(
        also_known_as=("Cherry angioma (Campbell de Morgan spot)", "Angiokeratoma",
                       "Pyogenic granuloma (lobular capillary haemangioma)", "Haemorrhage (bleeding into the skin)"),
        summary="Spots made of blood vessels or of blood: cherry angiomas, angiokeratomas, pyogenic granulomas and "
                "bleeding into the skin. They are benign, although a pyogenic granuloma bleeds easily and is "
                "usually removed.",
        what_it_is=(
            "This class groups benign lesions whose colour comes from blood vessels or from blood.",
            "A cherry angioma is a small, bright red, dome-shaped spot of widened capillaries; they are very common "
            "from middle age.",
            "An angiokeratoma is a dark red to purple-black spot of widened vessels under a thickened surface. Many "
            "angiokeratomas on the trunk of a young person can, rarely, be a sign of an inherited condition (Fabry "
            "disease).",
            "A pyogenic granuloma is a fast-growing, moist, red lump that bleeds easily, often after a minor injury, "
            "in pregnancy or with some medicines. Despite its name it is neither an infection nor filled with pus.",
            "A haemorrhage is a small collection of blood in the skin after an injury, for example a black spot on "
            "the heel or under a nail, which grows out or fades over weeks.",
        ),
        appearance=(
            "Cherry angioma: a smooth, bright red to purple dome of 1 to 5 mm, on the trunk and arms.",
            "Angiokeratoma: a dark red, purple or black bump with a rough surface.",
            "Pyogenic granuloma: a shiny, raw-looking red lump up to 1 to 2 cm that grows over weeks, often on the "
            "fingers, lips, gums or face, and bleeds at a light touch.",
            "Haemorrhage: a flat red-black or purple mark after an injury that does not grow, and under a nail moves "
            "forward as the nail grows.",
        ),
        dermoscopy=(
            "Red, red-blue or dark red to black lacunae: sharply outlined round or oval blood-filled spaces.",
            "Angiokeratoma: dark lacunae with a whitish veil, sometimes with crusts.",
            "Pyogenic granuloma: a red homogeneous area crossed by white lines, with a white collarette at the edge "
            "and sometimes ulceration.",
            "Haemorrhage: structureless red-purple to black areas, sometimes with small red globules at the edge, "
            "and no pigment network.",
        ),
        causes=(
            "Cherry angiomas: age and an inherited tendency.",
            "Angiokeratomas: raised pressure in small veins and age; rarely an inherited metabolic disease (Fabry "
            "disease).",
            "Pyogenic granuloma: minor injury, pregnancy and some medicines (for example isotretinoin and some "
            "cancer treatments).",
            "Haemorrhage: injury (tight sports shoes, a trapped finger) and blood-thinning medicines.",
        ),
        prevention=(
            "Most vascular lesions cannot be prevented.",
            "Well-fitting shoes and protecting the nails reduce bleeding into the skin after injury.",
        ),
        see_a_doctor=(
            "A fast-growing lump that bleeds easily: a pyogenic granuloma is usually removed and examined, because "
            "an amelanotic melanoma or another tumour can look the same.",
            "A dark mark on a sole or under a nail that appeared without an injury, or that does not grow out or "
            "fade within a few weeks: melanoma must be excluded.",
            "Many angiokeratomas in a child or young adult, especially with burning pain in the hands and feet.",
        ),
        urgency="Cherry angiomas need no visit. A bleeding, fast-growing lump should be seen within one to two "
                "weeks. A dark mark you think is a bruise but that does not grow out or fade within about a month "
                "should be checked.",
        in_the_dataset="142 of the 10,015 HAM10000 images are VASC: cherry angiomas, angiokeratomas, pyogenic "
                       "granulomas and haemorrhage. It is a small class.",
    ),
    ko=DiseaseText(
        also_known_as=("체리혈관종(노인성 혈관종)", "혈관각화종", "화농성 육아종(소엽성 모세혈관 혈관종)", "피부 내 "
                       "출혈"),
        summary="혈관이나 혈액으로 이루어진 병변인 체리혈관종·혈관각화종·화농성 육아종·피부 내 출혈을 묶은 분류입니다. "
                "양성이지만, 화농성 육아종은 피가 잘 나서 대개 제거합니다.",
        what_it_is=(
            "이 분류는 혈관이나 혈액 때문에 색을 띠는 양성 병변을 묶은 것입니다.",
            "체리혈관종은 넓어진 모세혈관으로 이루어진 작고 밝은 붉은색의 둥근 구진으로, 중년 이후에 매우 흔합니다.",
            "혈관각화종은 두꺼워진 표면 아래에 넓어진 혈관이 있는 검붉은색~보라빛 검은색 구진입니다. 젊은 사람의 "
            "몸통에 여러 개가 생기면 드물게 유전 질환(파브리병)의 징후일 수 있습니다.",
            "화농성 육아종은 빨리 자라고 촉촉하며 피가 잘 나는 붉은 혹으로, 흔히 작은 외상 뒤나 임신 중, 또는 일부 "
            "약물 사용 중에 생깁니다. 이름과 달리 감염이 아니며 고름이 차 있지도 않습니다.",
            "출혈은 외상 뒤에 피부 안에 고인 소량의 피로, 예를 들어 발뒤꿈치나 손발톱 밑의 검은 반점이며 몇 주에 걸쳐 "
            "손발톱과 함께 자라 나가거나 옅어집니다.",
        ),
        appearance=(
            "체리혈관종: 몸통과 팔에 생기는 1~5 mm 크기의 매끈하고 밝은 붉은색~보라색의 둥근 구진.",
            "혈관각화종: 표면이 거친 검붉은색·보라색·검은색 구진.",
            "화농성 육아종: 몇 주에 걸쳐 1~2 cm까지 자라는, 반들거리고 짓무른 듯한 붉은 혹으로, "
            "손가락·입술·잇몸·얼굴에 흔하며 살짝 닿아도 피가 납니다.",
            "출혈: 외상 뒤에 생긴 납작한 검붉은색 또는 보라색 반점으로 커지지 않으며, 손발톱 밑의 경우 손발톱이 "
            "자라면서 앞쪽으로 이동합니다.",
        ),
        dermoscopy=(
            "붉은색·적청색 또는 검붉은색~검은색의 열공(라쿠나): 경계가 뚜렷한 둥글거나 타원형인, 피로 찬 공간.",
            "혈관각화종: 흰 베일이 덮인 검은 열공, 때로 딱지.",
            "화농성 육아종: 흰 선이 가로지르는 균일한 붉은 부위, 가장자리의 흰 고리 모양 인설(칼라렛), 때로 궤양.",
            "출혈: 구조 없는 적자색~검은색 부위로 가장자리에 작은 붉은 소구가 보이기도 하며, 색소망은 없습니다.",
        ),
        causes=(
            "체리혈관종: 나이와 유전적 경향.",
            "혈관각화종: 작은 정맥의 압력 증가와 나이, 드물게 유전 대사 질환(파브리병).",
            "화농성 육아종: 작은 외상, 임신, 일부 약물(예: 이소트레티노인, 일부 항암 치료).",
            "출혈: 외상(꽉 끼는 운동화, 손가락 끼임)과 혈액을 묽게 하는 약.",
        ),
        prevention=(
            "혈관 병변은 대부분 예방할 수 없습니다.",
            "발에 잘 맞는 신발을 신고 손발톱을 보호하면 외상으로 인한 피부 내 출혈이 줄어듭니다.",
        ),
        see_a_doctor=(
            "빨리 자라고 피가 잘 나는 혹: 무색소흑색종이나 다른 종양도 똑같이 보일 수 있으므로 화농성 육아종은 대개 "
            "제거해 조직검사를 합니다.",
            "외상 없이 생겼거나, 몇 주가 지나도 자라 나가거나 옅어지지 않는 발바닥이나 손발톱 밑의 검은 반점: 흑색종을 "
            "배제해야 합니다.",
            "어린이나 젊은 성인에게 여러 개의 혈관각화종이 있는 경우, 특히 손발이 화끈거리며 아픈 경우.",
        ),
        urgency="체리혈관종은 진료가 필요 없습니다. 피가 나고 빨리 자라는 혹은 1~2주 안에 진료를 받으세요. 멍이라고 "
                "생각했지만 한 달 정도 지나도 자라 나가거나 옅어지지 않는 검은 반점은 진료를 받아 확인하세요.",
        in_the_dataset="HAM10000의 10,015장 가운데 142장이 이 분류(VASC)로, 체리혈관종·혈관각화종·화농성 육아종·출혈이 "
                       "포함됩니다. 작은 분류입니다.",
    ),
    sources=(
        _dermnet("cherry-angioma", "Cherry angioma"),
        _dermnet("angiokeratoma", "Angiokeratoma"),
        _dermnet("pyogenic-granuloma", "Pyogenic granuloma"),
        BAD, KDA, KITTLER_BOOK, HAM10000,
    ),
)

DISEASE_PAGES: dict[str, DiseasePage] = {
    page.code: page
    for page in (MELANOMA, NEVUS, BASAL_CELL_CARCINOMA, ACTINIC_KERATOSIS, BENIGN_KERATOSIS, DERMATOFIBROMA,
                 VASCULAR_LESION)
}

if tuple(DISEASE_PAGES) != CLASS_CODES:  # every class has a page, in model order
    raise RuntimeError(f"disease pages {tuple(DISEASE_PAGES)} do not match the classes {CLASS_CODES}")
