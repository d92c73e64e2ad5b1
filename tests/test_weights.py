"""The fitted weights and calibrations come from weights.json, unchanged, and the writer the
fitting script uses reads back to the same values."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.ranking import search
from embeddings.ranking.fusion import Calibration, Weights
from embeddings.ranking.weights import WEIGHTS_FILE, Fitted, Provenance, load, shipped, write


def test_the_shipped_numbers_are_the_ones_ranking_was_tuned_with() -> None:
    tuned = {
        "DEFAULT_WEIGHTS": Weights(dense=0.66, sentence=1.39, lexical=0.42, coverage=0.42),
        "MULTILINGUAL_WEIGHTS": Weights(
            dense=0.466, sentence=0.562, lexical=0.616, coverage=-0.062, speaker=0.422,
            multilingual=0.863,
        ),
        "CROSSLINGUAL_WEIGHTS": Weights(dense=1.0, sentence=1.0, lexical=0.2),
        "DEFAULT_CALIBRATION": Calibration(
            coefficients={"dense": 7.012, "sentence": 7.184, "coverage": 4.294},
            intercept=-9.04,
            threshold=0.358,
        ),
        "MULTILINGUAL_CALIBRATION": Calibration(
            coefficients={"dense": 4.526, "sentence": 5.458, "coverage": 3.998,
                          "multilingual": 30.493},
            intercept=-31.798,
            threshold=0.345,
        ),
        "CROSSLINGUAL_CALIBRATION": Calibration(
            coefficients={"translated": 5.471, "sentence": 57.746, "margin": 45.618},
            intercept=-51.286,
            threshold=0.152,
        ),
    }  # fmt: skip
    assert {name: getattr(search, name) for name in tuned} == tuned
    for field in dataclasses.fields(shipped()):
        provenance = getattr(shipped(), field.name).provenance
        assert all(getattr(provenance, f.name).strip() for f in dataclasses.fields(provenance))


def test_writing_the_shipped_set_reproduces_the_file_byte_for_byte(tmp_path: Path) -> None:
    copy = tmp_path / "weights.json"
    write(shipped(), copy)
    assert copy.read_text(encoding="utf-8") == WEIGHTS_FILE.read_text(encoding="utf-8")


def test_a_refit_calibration_reads_back_with_its_provenance(tmp_path: Path) -> None:
    path = tmp_path / "weights.json"
    refit = Fitted(
        Calibration({"dense": 1.5, "sentence": -0.25, "coverage": 3.0}, -2.125, 0.375),
        Provenance(
            "SQuAD on SQuAD", "the other half", "python -m benchmarks.calibrate", "2027-01-02"
        ),
    )
    write(dataclasses.replace(shipped(), english_calibration=refit), path)
    loaded = load(path)
    assert loaded.english_calibration == refit
    assert loaded.english_weights == shipped().english_weights
    assert loaded.crosslingual_calibration == shipped().crosslingual_calibration
    assert not list(tmp_path.glob(".*.tmp"))  # the staging file was moved into place


def test_a_malformed_entry_is_named(tmp_path: Path) -> None:
    document = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    del document["crosslingual_calibration"]["value"]["threshold"]
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="crosslingual_calibration"):
        load(path)


def test_the_calibration_script_ships_its_fit_with_where_it_came_from(tmp_path: Path) -> None:
    from benchmarks.calibrate import ENGLISH, calibrate

    rng = np.random.default_rng(0)

    def rows(count: int, answerable: bool) -> list[dict[str, float]]:
        centre = 0.8 if answerable else 0.4
        return [{**{name: float(centre + rng.normal(0, 0.1)) for name in ENGLISH},
                 "answerable": float(answerable)} for _ in range(count)]  # fmt: skip

    groups = {"asked of their archive": rows(40, True), "asked elsewhere (absent)": rows(40, False)}
    fitted = calibrate("English questions", groups, ENGLISH, "python -m benchmarks.calibrate -x")
    assert set(fitted.value.coefficients) == set(ENGLISH)
    assert fitted.provenance.command == "python -m benchmarks.calibrate -x"
    assert "asked of their archive: 40; asked elsewhere (absent): 40" in fitted.provenance.fitted_on
    assert "(40 examples)" in fitted.provenance.checked_on
    assert "at most" in fitted.provenance.checked_on
    path = tmp_path / "weights.json"
    write(dataclasses.replace(shipped(), english_calibration=fitted), path)
    assert load(path).english_calibration == fitted


def test_the_threshold_keeps_each_set_of_answerable_questions_not_just_the_pooled_one() -> None:
    """A thousand easy questions must not let a small, harder set be declined unseen: pooled,
    4% of 1,020 answerable questions is 40, more than the whole small set."""
    from benchmarks.calibrate import ENGLISH, fit

    rng = np.random.default_rng(1)

    def rows(count: int, centre: float, answerable: bool) -> list[dict[str, float]]:
        return [{**{name: float(centre + rng.normal(0, 0.05)) for name in ENGLISH},
                 "answerable": float(answerable)} for _ in range(count)]  # fmt: skip

    paraphrases = rows(20, 0.55, True)
    groups = {"easy": rows(1000, 0.8, True), "paraphrases": paraphrases,
              "absent": rows(1000, 0.4, False)}  # fmt: skip
    calibration = fit(groups, ENGLISH)
    declined = [calibration.probability(r) < calibration.threshold for r in paraphrases]
    assert sum(declined) == 0  # floor(4% of 20): none of them may be declined
