"""The disease library pages. HTTP only: the text lives in the page files (``content``) and the catalogues."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_301_MOVED_PERMANENTLY, HTTP_404_NOT_FOUND

from webapp.core.labels import CLASS_CODES, get_label
from webapp.diseases.i18n import request_language
from webapp.diseases.schemas import Language
from webapp.diseases.views import all_summaries, disease_view, library_groups

# The page depends on these request headers (language negotiation), so shared caches must key on them.
_VARY = "Accept-Language, Cookie"


def _common(lang: Language) -> dict[str, Any]:
    return {"lang": lang, "other_lang": "en" if lang == "ko" else "ko"}


def _headers(lang: Language) -> dict[str, str]:
    return {"Content-Language": lang, "Vary": _VARY}


class DiseaseController(Controller):
    path = "/diseases"

    @get("/", name="diseases")
    async def library(self, request: Request[Any, Any, Any]) -> Template:
        lang = request_language(request)
        return Template("diseases/index.html", headers=_headers(lang),
                        context={**_common(lang), "groups": library_groups(lang)})

    @get("/{code:str}", name="disease")
    async def disease(self, request: Request[Any, Any, Any], code: str) -> Response[Any]:
        lang = request_language(request)
        if code in CLASS_CODES:
            return Template("diseases/detail.html", headers=_headers(lang),
                            context={**_common(lang), "disease": disease_view(code, lang)})
        try:
            canonical = get_label(code).code  # "MEL", "Mel", the ISIC column: one address per page
        except KeyError:
            return Template("diseases/not_found.html", status_code=HTTP_404_NOT_FOUND, headers=_headers(lang),
                            context={**_common(lang), "code": code, "diseases": all_summaries(lang)})
        query = f"?{request.url.query}" if request.url.query else ""
        return Redirect(f"/diseases/{canonical}{query}", status_code=HTTP_301_MOVED_PERMANENTLY)
