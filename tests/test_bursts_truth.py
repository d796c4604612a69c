"""The burst ground truth: ESA identifiers recomputed from times, 12-day repeats, parent SLCs, determinism."""

from __future__ import annotations

import itertools
from collections import defaultdict

from emulators.s1truth import (
    LINE_TIME,
    SUBSWATHS,
    US,
    SyntheticBursts,
    absolute_burst_id,
    relative_burst_id,
)
from indexer.bursts.identity import burst_index_from_offset, parse_parent

RECIPE = SyntheticBursts(seed=9, frames=6, start="2024-06-01T00:00:00Z", end="2025-03-01T00:00:00Z")


def test_identifiers_follow_esa_definitions_from_the_burst_times() -> None:
    bursts = RECIPE.generate()
    assert len(bursts) > 5000
    offsets = {name: dt for name, dt, _, _ in SUBSWATHS}
    for b in bursts:
        mid_iw2 = (b.azimuth_time - b.anx_time) / US + b.lines * LINE_TIME / 2 - offsets[b.subswath]
        assert relative_burst_id(mid_iw2, b.track) == b.relative_burst_id
        assert absolute_burst_id(mid_iw2, b.absolute_orbit) == b.absolute_burst_id
        parent = parse_parent(b.parent)
        assert parent.absolute_orbit == b.absolute_orbit and parent.platform == f"sentinel-1{b.platform.lower()}"
        assert b.polarization in parent.polarizations
        assert burst_index_from_offset(b.byte_offset, b.lines, b.samples) == b.burst_index
        assert b.item_id.endswith(f"_{b.polarization}_{b.parent[-4:]}") and b.start < b.end
    assert len({b.item_id for b in bursts}) == len(bursts), "one id per burst acquisition"
    assert len({b.cdse_id for b in bursts}) == len(bursts)


def test_each_burst_location_repeats_every_12_days_per_platform_with_vv_and_vh() -> None:
    series: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for b in RECIPE.generate():
        series[(b.full_burst_id, b.polarization, b.platform)].append(b.azimuth_time)
    assert {key[2] for key in series} == {"A", "C"}, "S1C joins in December 2024"
    assert {key[1] for key in series} >= {"VV", "VH"}
    for times in series.values():
        gaps = {round((b - a) / US / 86_400, 3) for a, b in itertools.pairwise(times)}
        assert gaps <= {12.0}, gaps


def test_bursts_of_one_parent_slc_share_its_orbit_and_have_consecutive_indexes() -> None:
    parents: dict[str, set[tuple[int, int, str]]] = defaultdict(set)
    for b in RECIPE.generate():
        parents[b.parent].add((b.burst_index, b.relative_burst_id, b.subswath))
    for members in parents.values():
        indexes = sorted({i for i, _, _ in members})
        assert indexes == list(range(9))
        assert len({rel - i for i, rel, _ in members}) == 1, "index i is burst id first + i"


def test_the_truth_is_deterministic_and_some_slcs_are_at_one_source_only() -> None:
    again = SyntheticBursts(seed=9, frames=6, start="2024-06-01T00:00:00Z", end="2025-03-01T00:00:00Z")
    first, second = RECIPE.generate(), again.generate()
    assert first == second
    only_cdse = {b.parent for b in first if not b.at_asf}
    only_asf = {b.parent for b in first if not b.at_cdse}
    assert only_cdse and only_asf and not only_cdse & only_asf
    assert all(b.at_cdse or b.at_asf for b in first)
    since = SyntheticBursts(seed=9, frames=6, start="2024-06-01T00:00:00Z", end="2025-03-01T00:00:00Z",
                            cdse_since="2024-08-02")  # fmt: skip
    assert not [b for b in since.generate() if b.at_cdse and b.start < 1_722_556_800 * US]


def test_bbox_keeps_frames_inside_the_area() -> None:
    europe = SyntheticBursts(seed=2, frames=4, bbox=(-10.0, 35.0, 30.0, 60.0))
    for b in europe.generate()[::50]:
        west, south, east, north = b.bbox
        assert west > -12 and east < 32 and south > 33 and north < 62
