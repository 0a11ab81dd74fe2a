"""``trainability reproduce sohl-dickstein`` (verify/targets/sohl_dickstein.py).

The quick run checks the JSON contract, the files and the phase colours; the slow run is the
documented reproduction (tanh more fractal than ReLU and linear, Sohl-Dickstein 2024).
"""

import json

import numpy as np
import pytest

from trainability.verify._cli import main
from trainability.verify.targets.sohl_dickstein import phase_rgb

KEYS = {
    "activation",
    "resolution",
    "steps",
    "dimension",
    "dimension_stderr",
    "converged_fraction",
    "figure",
}


def run(capsys, *argv):
    code = main(["reproduce", "sohl-dickstein", *argv, "--json"])
    out = capsys.readouterr()
    return code, out


def test_quick_json_contract(tmp_path, capsys):
    """--quick-sized run: one JSON object with the issue's keys, figure, scores and zoom."""
    code, out = run(
        capsys,
        "--activation",
        "relu",
        "--resolution",
        "16",
        "--steps",
        "40",
        "--zoom",
        "1",
        "--estimator",
        "ols-window",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    summary = json.loads(out.out)
    assert KEYS <= summary.keys() and summary["estimator"] == "ols-window"
    assert summary["activation"] == "relu" and summary["resolution"] == 16
    assert summary["steps"] == 40 and 0 < summary["converged_fraction"] < 1
    assert (tmp_path / "sohl-dickstein" / "relu.png").stat().st_size > 1000
    assert (tmp_path / "sohl-dickstein" / "relu_zoom.png").exists()
    assert len(summary["zoom"]) == 2
    scores = np.load(tmp_path / "sohl-dickstein" / "relu_scores.npz")["score"]
    assert scores.shape == (16, 16)
    assert json.loads((tmp_path / "sohl-dickstein" / "summary.json").read_text()) == summary


def test_quick_flag(tmp_path, capsys):
    code, out = run(
        capsys,
        "--quick",
        "--activation",
        "linear",
        "--estimator",
        "ols-window",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    summary = json.loads(out.out)
    assert (summary["resolution"], summary["steps"]) == (32, 100)
    assert summary["n_data"] == 16  # the source's identity network trains on width points


def test_median_zoom_out_ordering_contract(tmp_path, capsys):
    """Default estimator, all three activations on tiny grids: the source's zoom-out sequence
    (deepest window 9/4 wide -> widths 2.25, 4.5, 9), the median of the pooled slopes, and
    one ordering entry per configuration plus one range entry each."""
    code, out = run(
        capsys,
        "--activation",
        "all",
        "--resolution",
        "24",
        "--locate-resolution",
        "8",
        "--steps",
        "15",
        "--zoom",
        "1",
        "--width",
        "4",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    s = json.loads(out.out)
    assert s["estimator"] == "median-zoom-out" and KEYS <= s.keys()
    assert [c["activation"] for c in s["configurations"]] == ["tanh", "relu", "linear"]
    for c in s["configurations"]:
        widths = [f["x_range"][1] - f["x_range"][0] for f in c["frames"]]
        np.testing.assert_allclose(widths, [9.0, 4.5, 2.25])
        pooled = np.concatenate(
            [
                np.asarray(_porespy_slopes(np.load(tmp_path / "sohl-dickstein" / name)["score"]))
                for name in (f"{c['activation']}_frame{k}_scores.npz" for k in range(3))
            ]
        )
        finite = pooled[np.isfinite(pooled)]
        want = float(np.median(finite)) if finite.size else float("nan")
        assert c["dimension"] == pytest.approx(want, abs=1e-12, nan_ok=True)
        assert c["n_distinct_slopes"] == np.unique(np.round(finite, 9)).size
    comp = s["comparison"]
    assert len(comp) == 6 and all(isinstance(e["agrees"], bool) for e in comp)
    d = {c["activation"]: c["dimension"] for c in s["configurations"]}
    assert comp[0]["agrees"] == (d["tanh"] > max(d["relu"], d["linear"]))
    assert comp[1]["agrees"] == (d["relu"] < d["tanh"])
    tie = d["tanh"] in (d["relu"], d["linear"])
    assert ("equal medians" in comp[0]["note"]) == tie


def _porespy_slopes(score):
    """Local slopes of one frame, recomputed with the loop transcription of porespy."""
    from test_numeric_box_counting import porespy_boxcount_loop

    from trainability.numeric import boundary_pixels

    return porespy_boxcount_loop(boundary_pixels(score))[2]


@pytest.mark.parametrize(
    "argv",
    [
        ["--estimator", "box"],
        ["--offset-schedule", "never"],
        ["--activation", "sigmoid"],
        ["--resolution", "1"],
        ["--steps", "0"],
        ["--zoom", "-1"],
    ],
)
def test_bad_input_exits_2(tmp_path, capsys, argv):
    code, out = run(capsys, *argv, "--out", str(tmp_path))
    assert code == 2 and out.out == "" and "error" in out.err


def test_phase_colours():
    """Converged pixels are blue-dominant, diverged pixels red-dominant."""
    rgb = phase_rgb(np.array([[-5.0, -1.0], [1.0, 7.0]]))
    assert np.all(rgb[0, :, 2] > rgb[0, :, 0]) and np.all(rgb[1, :, 0] > rgb[1, :, 2])


@pytest.mark.slow
def test_zoom_reproduction(tmp_path, capsys):
    """Resolution 128, 500 steps, 3 zoom frames (about 20 minutes here): the zoomed tanh and
    ReLU boundaries are fractal (dimension well above 1 at the deepest frame), the linear
    network's boundary is the least fractal of the three (Sohl-Dickstein 2024)."""
    zoom = {}
    for act in ("tanh", "relu", "linear"):
        code, out = run(
            capsys,
            "--activation",
            act,
            "--resolution",
            "128",
            "--zoom",
            "3",
            "--estimator",
            "ols-window",
            "--out",
            str(tmp_path),
        )
        assert code == 0
        summary = json.loads(out.out)
        zoom[act] = summary["zoom_dimension"]
        if act != "linear":
            assert summary["zoom"][-1]["dimension"] > 1.4
    assert zoom["linear"] < zoom["tanh"] and zoom["linear"] < zoom["relu"]


def test_cli_runs_dataset_size_one(capsys, tmp_path):
    argv = ["reproduce", "sohl-dickstein", "--quick", "--resolution", "8", "--steps", "20"]
    assert (
        main([*argv, "--n-data", "1", "--batch-size", "1", "--out", str(tmp_path), "--json"]) == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["n_data"] == 1 and d["minibatch"] == 1
    assert d["estimator"] == "median-zoom-out" and "dimension" in d and d["comparison"] == []
    assert d["batch_size"] == 1


@pytest.mark.slow
def test_default_ordering_run(tmp_path, capsys):
    """The default --activation all run (about 10 min on 2 quiet cores, 22 min at load 10):
    5 zoom-out frames per configuration, dimensions between 1 and 2 (a boundary rougher than
    a curve, below a filled region), and the comparison states the ordering per configuration.
    Measured: tanh 1.12, ReLU 1.33, linear 1.18 -- the paper's order is not reproduced."""
    code, out = run(capsys, "--activation", "all", "--out", str(tmp_path))
    assert code == 0
    s = json.loads(out.out)
    for c in s["configurations"]:
        assert len(c["frames"]) == 5 and 1.0 < c["dimension"] < 2.0
    assert [e["quantity"] for e in s["comparison"][:3]] == [
        "tanh full batch is the most fractal",
        "dimension(relu) < dimension(tanh)",
        "dimension(linear) < dimension(tanh)",
    ]


def test_zoom_17_spans_ten_decades():
    """``--zoom 17`` (accepted up to MAX_ZOOM) gives the notebook's "more than ten decades of
    scale": 17 zooms by 4 from the 9-decade window, then zoom_out_sequence doubling back to 6
    decades. Reference: the arithmetic 9 / 4^17 and ceil(log2(6 * 4^17 / 9)) doublings."""
    import math

    from trainability.numeric import HyperGrid
    from trainability.verify.targets.sohl_dickstein import LR_RANGE, MAX_ZOOM

    assert MAX_ZOOM >= 17
    g = HyperGrid(LR_RANGE, LR_RANGE, 32)
    for _ in range(17):
        (x0, x1), (y0, y1) = g.x_range, g.y_range
        g = g.zoom(((x0 + x1) / 2 + 0.1 * (x1 - x0), (y0 + y1) / 2), 4.0)
    seq = g.zoom_out_sequence()
    deepest = seq[-1].x_range[1] - seq[-1].x_range[0]
    widest = seq[0].x_range[1] - seq[0].x_range[0]
    assert deepest == pytest.approx(9 / 4**17, rel=1e-6)
    assert len(seq) == 1 + math.ceil(math.log2(6 * 4**17 / 9)) == 35
    assert widest / deepest > 1e10
    # neighbouring pixels of the deepest frame are still distinct float64 learning rates
    xs, _ = seq[-1].axes()
    assert np.all(np.diff(xs) > 0)
