"""The client for the BentoML service's HTTP API (see docs/architecture.md, "The service API")."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from pydantic import ValidationError

from skin_models.contract import DiagnoseResponse, InfoResponse
from webapp.core.diagnosis_result import DiagnosisResult
from webapp.core.i18n import N_, _, current_language
from webapp.core.settings import ServiceSettings

log = logging.getLogger(__name__)

INFO_CACHE_S = 60.0  # /info changes only when the service restarts with other models
INFO_FAILURE_CACHE_S = 5.0
# After a call timed out (the service took the request and never answered: a hung classifier), readiness reports the
# service as not answering for this long, and the next diagnoses wait at most STALLED_TIMEOUT_S instead of the full
# timeout; the first answer in time clears it.
STALLED_WINDOW_S = 60.0
STALLED_TIMEOUT_S = 5.0
UNAVAILABLE_MESSAGE = N_("The analysis service is unavailable right now. Nothing was saved; try again in a minute.")
NOT_ANSWERING_MESSAGE = N_("The analysis service is not answering. Nothing was saved; try again in a minute.")
MALFORMED_MESSAGE = N_("The analysis service gave an answer this site cannot read, so no result is shown and nothing "
                       "was saved. Please try again later; if it keeps happening, the site and the service may be "
                       "of different versions.")


class ServiceError(Exception):
    """Base class: ``message`` is safe to show to the user, ``status_code`` is what the page answers with."""

    status_code = 503

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PhotoRejected(ServiceError):
    """The service refused the photo (4xx): something the user can fix."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class ServiceUnavailable(ServiceError):
    """5xx, time-outs and connection failures: not the user's fault."""


class ServiceNotAnswering(ServiceUnavailable):
    """The service took the request but gave no answer within the time-out (hung)."""


_FALLBACK_4XX = {
    400: N_("This file is not an image we can read. Take a new photo or upload a JPEG or PNG."),
    413: N_("The photo is too large. Use a smaller photo."),
    415: N_("This file type is not supported. Upload a JPEG, PNG or WebP photo."),
    422: N_("No photo was received. Choose a photo and try again."),
}
_FALLBACK_OTHER = N_("The photo could not be analysed. Try another photo.")


class ServiceClient:
    """One ``httpx.AsyncClient`` per site process; retries once when the connection itself fails."""

    def __init__(self, settings: ServiceSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        timeout = httpx.Timeout(settings.timeout_s, connect=min(5.0, settings.timeout_s))
        # Idle connections are dropped after 2 s, before the service's own keep-alive (uvicorn's 5 s) closes them:
        # with equal timeouts a request sometimes went out on a connection the service was closing that instant
        # (a ReadError, then a 503 page, once in 22,000 diagnoses of the 30-minute soak, docs/reliability.md).
        self._client = httpx.AsyncClient(base_url=settings.url, timeout=timeout, transport=transport,
                                         limits=httpx.Limits(keepalive_expiry=2.0))
        self._info: tuple[float, InfoResponse | None] | None = None  # (valid until, payload or failure)
        self.timeout_s = settings.timeout_s  # seconds a diagnosis may take (DRSKIN_SERVICE_TIMEOUT)
        self._stalled_at: float | None = None  # monotonic time of the latest call that timed out unanswered

    @property
    def stalled(self) -> bool:
        """Whether a call timed out unanswered within the last ``STALLED_WINDOW_S`` with no answer since."""
        return self._stalled_at is not None and time.monotonic() - self._stalled_at < STALLED_WINDOW_S

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(self, method: str, path: str, *, marks_stall: bool = True, **kwargs: Any) -> httpx.Response:
        """``marks_stall``: a time-out starts the not-answering window (a call already shortened by it does not
        extend it, so a merely slow service gets the full time-out again once the window is over)."""
        # Connection errors mean the request never reached the service, so one retry cannot run a model twice.
        for attempt in (1, 2):
            try:
                response = await self._client.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                log.warning("service %s %s: connection failed (attempt %d): %s", method, path, attempt, exc)
                if attempt == 2:
                    raise ServiceUnavailable(_(UNAVAILABLE_MESSAGE)) from exc
            except httpx.TimeoutException as exc:  # connected, sent, and no answer in time: hung
                log.warning("service %s %s: no answer in time (%r)", method, path, exc)
                if marks_stall:
                    self._stalled_at = time.monotonic()
                raise ServiceNotAnswering(_(NOT_ANSWERING_MESSAGE)) from exc
            except httpx.HTTPError as exc:
                log.warning("service %s %s failed: %r", method, path, exc)
                raise ServiceUnavailable(_(UNAVAILABLE_MESSAGE)) from exc
            else:
                return response
        raise AssertionError("unreachable")

    async def diagnose(self, image: bytes, *, filename: str = "photo.jpg", content_type: str = "image/jpeg",
                       context: dict[str, str] | None = None) -> DiagnosisResult | DiagnoseResponse:
        """POST /diagnose, with the optional ``context`` fields (age, sex, site) the classifier weighs: the typed
        result when the photo was judged (verdict ``ok``), else the contract's answer (what to retake and why); or
        ``PhotoRejected`` / ``ServiceUnavailable``."""
        # While the service is known not to answer, wait less: a person learns it in seconds, and an answer in time
        # (the service is back) clears the state.
        stalled = self.stalled
        read_s = min(self.timeout_s, STALLED_TIMEOUT_S) if stalled else self.timeout_s
        response = await self._send("POST", "/diagnose", marks_stall=not stalled,
                                    files={"image": (filename, image, content_type)},
                                    data={"explain": "true", **(context or {})},
                                    timeout=httpx.Timeout(read_s, connect=min(5.0, read_s)))
        self._stalled_at = None  # the model answered (whatever it said): the service is not hung
        if response.status_code == 200:
            try:
                payload = response.json()
            except ValueError as exc:
                raise ServiceUnavailable(_(UNAVAILABLE_MESSAGE)) from exc
            return read_answer(payload)
        if 400 <= response.status_code < 500 and response.status_code != 429:
            raise PhotoRejected(_error_message(response), response.status_code)
        log.warning("service /diagnose answered %s: %s", response.status_code, response.text[:300])
        raise ServiceUnavailable(_(UNAVAILABLE_MESSAGE))

    async def info(self) -> InfoResponse:
        """GET /info (the served models: versions, training data, metrics), validated against the contract and
        cached for ``INFO_CACHE_S``.

        A failure is remembered for ``INFO_FAILURE_CACHE_S`` so a down service does not slow every page view;
        raises ``ServiceUnavailable`` then.
        """
        now = time.monotonic()
        if self._info is not None and now < self._info[0]:
            if self._info[1] is not None:
                return self._info[1]
            raise ServiceUnavailable(_(UNAVAILABLE_MESSAGE))
        payload: InfoResponse | None = None
        try:
            response = await self._send("GET", "/info")
            if response.status_code == 200:
                payload = InfoResponse.model_validate_json(response.content)
            else:
                log.warning("service /info answered %s: %s", response.status_code, response.text[:300])
        except (ServiceUnavailable, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            log.warning("service /info failed: %r", exc)
        if payload is None:
            self._info = (now + INFO_FAILURE_CACHE_S, None)
            raise ServiceUnavailable(_(UNAVAILABLE_MESSAGE))
        self._info = (now + INFO_CACHE_S, payload)
        return payload

    async def readiness(self) -> str:
        """``ok``, ``down`` (``/readyz`` fails or does not answer) or ``not answering`` (``/readyz`` may say ok, but
        a call timed out unanswered within ``STALLED_WINDOW_S``: BentoML's readiness does not see a hung model)."""
        try:
            response = await self._client.get("/readyz", timeout=3.0)
        except httpx.TimeoutException:
            return "not answering"
        except httpx.HTTPError:
            return "down"
        if response.status_code != 200:
            return "down"
        return "not answering" if self.stalled else "ok"

    async def is_ready(self) -> bool:
        return await self.readiness() == "ok"


def _error_message(response: httpx.Response) -> str:
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    # The service writes English; other languages get the site's own text for the status.
    if isinstance(message, str) and message.strip() and current_language() == "en":
        return message.strip()
    return _(_FALLBACK_4XX.get(response.status_code, _FALLBACK_OTHER))


def read_answer(payload: Any) -> DiagnosisResult | DiagnoseResponse:
    """A ``/diagnose`` answer the site can show: valid against the API contract the service itself answers with
    (``skin_models.contract``) and, when the verdict is ``ok``, a whole result (classification, probabilities,
    triage). Raises ``ServiceUnavailable`` with ``MALFORMED_MESSAGE`` otherwise: the site never fills in a missing
    verdict or triage itself."""
    try:
        answer = DiagnoseResponse.model_validate(payload)
        return DiagnosisResult.from_answer(answer) if answer.verdict == "ok" else answer
    except ValidationError as exc:
        log.warning("service /diagnose answer is not valid against the contract: %s", str(exc)[:500])
        raise ServiceUnavailable(_(MALFORMED_MESSAGE)) from exc
