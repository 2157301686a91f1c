"""The glyph finder's shortcuts give what the plain computations give (they exist for speed)."""

from __future__ import annotations

import numpy as np

from photoguard.detect import textregions as tr


def test_nearest_neighbours_are_the_same_by_matrix_and_by_cells(monkeypatch):
    rng = np.random.default_rng(3)
    pts = np.round(rng.uniform(0, 400, (300, 2)))  # rounded: equal distances (ties) occur
    size = rng.choice([6.0, 8.0, 10.0, 16.0, 30.0], 300)
    nn, dist = tr._nearest(pts, size)  # one matrix
    monkeypatch.setattr(tr, "_NN_ROWS", 16)
    cell_nn, cell_dist = tr._nearest(pts, size)  # cells, 16 rows at a time
    assert np.array_equal(dist, cell_dist)
    found = np.isfinite(dist)
    assert 50 < found.sum() < 300  # both found and lone glyphs are exercised
    assert np.array_equal(nn[found], cell_nn[found])


def test_glyphs_within_a_rectangle_come_in_their_own_order():
    rng = np.random.default_rng(5)
    glyphs = np.column_stack(
        [np.round(rng.uniform(0, 100, (500, 2))), rng.uniform(5, 20, 500)]
    ).astype(np.float32)
    index = tr._Glyphs(glyphs)
    for x0, y0, x1, y1 in [(10, 20, 40, 60), (0, 0, 100, 100), (50, 50, 50, 90), (33, 0, 34, 100)]:
        plain = glyphs[
            (glyphs[:, 0] >= x0) & (glyphs[:, 0] < x1) & (glyphs[:, 1] >= y0) & (glyphs[:, 1] < y1)
        ]
        assert np.array_equal(index.within(x0, y0, x1, y1), plain)
