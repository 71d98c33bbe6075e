"""The patient's context (age, sex, body site) and the naive-Bayes term the classifier adds for it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from skin_models.config import ModelConfig
from skin_models.context import (
    AGE_EDGES,
    SITES,
    ContextError,
    ContextModel,
    PatientContext,
    age_band,
    age_band_names,
    fit_context_model,
)
from skin_models.labels import CLASS_CODES, class_index
from skin_models.predict import with_context

AKIEC, NV = class_index("akiec"), class_index("nv")


def _tables() -> ContextModel:
    contexts = ([PatientContext(82, "female", "face")] * 30 + [PatientContext(24, "male", "back")] * 30
                + [PatientContext(50, None, "trunk")] * 10)
    targets = [AKIEC] * 30 + [NV] * 30 + [class_index("mel")] * 10
    model = fit_context_model(contexts, targets, CLASS_CODES, weight=1.0)
    assert model is not None
    return model


def test_values_outside_the_vocabulary_are_refused_with_the_valid_ones() -> None:
    with pytest.raises(ContextError, match="female, male"):
        PatientContext(sex="robot")
    with pytest.raises(ContextError, match="upper extremity"):
        PatientContext(site="elbow")
    for age in (-1, 121, math.inf):
        with pytest.raises(ContextError, match="0 to 120"):
            PatientContext(age=age)
    with pytest.raises(ContextError, match="number of years"):
        PatientContext.parse(age="old")
    with pytest.raises(ContextError, match="number of years"):
        PatientContext.parse(age=True)


def test_loose_spellings_and_missing_markers_are_understood() -> None:
    context = PatientContext.parse(age="45.0", sex=" Male ", site="LOWER_EXTREMITY")
    assert context == PatientContext(45.0, "male", "lower extremity")
    assert context.given == ("age", "sex", "site")
    empty = PatientContext.parse(age="", sex="unknown", site=None)
    assert empty == PatientContext() and empty.given == ()
    assert PatientContext.parse(age=float("nan")).age is None


def test_age_bands_cover_every_age_once() -> None:
    assert [age_band(a) for a in (0, 14.9, 15, 29, 30, 79, 80, 120)] == [0, 0, 1, 1, 2, 6, 7, 7]
    names = age_band_names()
    assert len(names) == len(AGE_EDGES) + 1
    assert names[0] == "<15" and names[1] == "15-29" and names[-1] == "80+"


def test_tables_are_smoothed_log_probabilities_of_each_value_given_the_class() -> None:
    model = _tables()
    for table in (model.age, list(model.sex.values()), list(model.site.values())):
        column_sums = np.exp(np.array(table)).sum(axis=0)
        assert np.allclose(column_sums, 1.0)  # P(value | class) sums to 1 over the values, for every class
    # 30 akiec faces among 30 akiec images, smoothed by one per site: (30 + 1) / (30 + 14)
    assert math.exp(model.site["face"][AKIEC]) == pytest.approx(31 / (30 + len(SITES)))
    # a class with no image of any site keeps the uniform row
    assert math.exp(model.site["face"][class_index("df")]) == pytest.approx(1 / len(SITES))
    assert fit_context_model([PatientContext()] * 3, [0, 1, 2], CLASS_CODES) is None
    with pytest.raises(ValueError, match="2 contexts for 3 targets"):
        fit_context_model([PatientContext()] * 2, [0, 1, 2], CLASS_CODES)


def test_the_context_moves_probability_towards_the_classes_it_fits_and_nothing_given_changes_nothing() -> None:
    model = _tables()
    photo = [1 / len(CLASS_CODES)] * len(CLASS_CODES)
    old_face = model.apply(photo, PatientContext(85, "female", "face"))
    young_back = model.apply(photo, PatientContext(20, "male", "back"))
    assert sum(old_face) == pytest.approx(1.0) and sum(young_back) == pytest.approx(1.0)
    assert max(range(len(CLASS_CODES)), key=old_face.__getitem__) == AKIEC
    assert max(range(len(CLASS_CODES)), key=young_back.__getitem__) == NV
    assert model.apply(photo, PatientContext()) == photo
    assert model.apply(photo, None) == photo
    # weight 0 is the photo alone; a larger weight moves further
    assert model.model_copy(update={"weight": 0.0}).apply(photo, PatientContext(85, "female", "face")) == photo
    half = model.model_copy(update={"weight": 0.5}).apply(photo, PatientContext(85, "female", "face"))
    assert photo[AKIEC] < half[AKIEC] < old_face[AKIEC]
    # one field alone moves less than all three together
    site_only = model.apply(photo, PatientContext(site="face"))
    assert photo[AKIEC] < site_only[AKIEC] < old_face[AKIEC]


def test_the_bundle_config_carries_the_context_model(tmp_path: Path) -> None:
    config = ModelConfig(task="classification", arch="resnet18", input_size=(32, 40), context=_tables())
    config.save(tmp_path / "config.json")
    loaded = ModelConfig.load(tmp_path / "config.json")
    assert loaded.context == config.context
    probabilities = np.full((2, len(CLASS_CODES)), 1 / len(CLASS_CODES))
    weighed = with_context(probabilities, loaded, [PatientContext(site="face"), None])
    assert weighed[0, AKIEC] > probabilities[0, AKIEC]
    assert np.allclose(weighed[1], probabilities[1])
    without = ModelConfig(task="classification", arch="resnet18", input_size=(32, 40))
    assert with_context(probabilities, without, [PatientContext(site="face")] * 2) is probabilities
    with pytest.raises(ValueError, match="1 contexts for 2 photos"):
        with_context(probabilities, loaded, [None])
    with pytest.raises(ValueError, match="one value per class"):
        ContextModel(labels=CLASS_CODES, weight=1.0, age=[[0.0]] * (len(AGE_EDGES) + 1), sex={}, site={},
                     fitted_on=1)
