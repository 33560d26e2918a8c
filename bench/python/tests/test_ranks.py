"""Where the right answer ranks among the options: the pure counting, and version 0 of the tiny LLaVA."""
from __future__ import annotations

import json

import pytest

from lethe_bench.ranks import answer_rank, main, parse_people, rank_shares


def test_answer_rank_counts_the_options_at_or_above_the_right_one():
    logits = {"A": 2.0, "B": 1.0, "C": 0.5, "D": -1.0}
    assert [answer_rank(logits, letter) for letter in "ABCD"] == [0, 1, 2, 3]
    # A tie is not a win: the audit's argmax cannot be said to pick the right answer then.
    assert answer_rank({"A": 1.0, "B": 1.0, "C": 0.0, "D": 0.0}, "B") == 1


def test_rank_shares_per_modality():
    scored = [
        {"id": "q1", "modality": "text", "logits": {"A": 0.0, "B": 3.0, "C": 1.0, "D": 2.0}},  # A is 4th
        {"id": "q2", "modality": "text", "logits": {"A": 1.0, "B": 3.0, "C": 0.0, "D": 2.0}},  # A is 3rd
        {"id": "q3", "modality": "multimodal", "logits": {"A": 2.0, "B": 3.0, "C": 0.0, "D": 1.0}},  # A is 2nd
    ]
    shares = rank_shares(scored, {"q1": "A", "q2": "A", "q3": "A"})
    assert shares == {"text": [0.0, 0.0, 0.5, 0.5], "multimodal": [0.0, 1.0, 0.0, 0.0]}


def test_parse_people_ranges_and_lists():
    assert parse_people("p009-p011,c002") == ["p009", "p010", "p011", "c002"]


def test_version_0_ranks_what_it_knows_first(world, capsys):
    """On the built model the right answer is the first choice about as often as the build's accuracy says (>= 0.9)."""
    main(["--forgotten", "p001-p003", "--model-root", str(world["model"].parent), "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    (version,) = json.loads(out[-1])["versions"]
    assert version["version"] == "version 0"
    for people in ("forgotten", "retained"):
        for modality in ("multimodal", "text"):
            shares = version[people][modality]
            assert sum(shares) == pytest.approx(1.0)
            assert shares[0] >= 0.8, f"{people} {modality}: version 0 ranks the right answer first only {shares[0]:.2f} of the time"


def test_refuses_what_is_not_an_adapter(world, tmp_path):
    with pytest.raises(SystemExit, match="not an adapter directory"):
        main(["--forgotten", "p001", "--model-root", str(world["model"].parent), str(tmp_path)])
    with pytest.raises(SystemExit, match="does not have: p999"):
        main(["--forgotten", "p999", "--model-root", str(world["model"].parent)])
