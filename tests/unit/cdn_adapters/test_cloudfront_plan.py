"""plan_invalidations: folding, limits, caller references, order independence."""

from __future__ import annotations

import random
import uuid

import pytest

from cdn_adapters.cloudfront import Batch, InvalidationLimits, plan_invalidations

LIMITS = InvalidationLimits()
A = "/assets/3f2c0b5e-7a41-4c1e-9d7e-5b8f1e2a9c10/"
B = "/assets/9b1d4e2f-0c3a-4f5b-8e6d-7a9c0b1d2e3f/"


def _paths(batches: list[Batch]) -> list[str]:
    return [path for batch in batches for path in batch.paths]


def _covered(path: str, planned: set[str]) -> bool:
    """Whether `path` is planned itself or lies below a planned ``folder/*``."""
    parts = path.removesuffix("*").rstrip("/").split("/")[:-1]
    ancestors = ["/".join(parts[: i + 1]) + "/*" for i in range(len(parts))]
    return path in planned or any(ancestor in planned for ancestor in ancestors)


def test_a_whole_asset_is_one_wildcard_and_swallows_its_files() -> None:
    batches = plan_invalidations(
        [f"{A}v1/master.m3u8", A, f"{A}v2/", f"{A}v1/720p/seg_00001.m4s"],
        reference="asset-delete",
        limits=LIMITS,
    )
    assert batches == [Batch("asset-delete#0", (f"{A}*",))]


def test_files_are_listed_one_by_one_below_the_fold_threshold() -> None:
    files = [f"{A}v1/720p/seg_{i:05}.m4s" for i in range(9)]
    (batch,) = plan_invalidations(files, reference="r", limits=LIMITS)
    assert batch.paths == tuple(sorted(files))
    assert batch.wildcards == 0


def test_files_of_one_folder_are_folded_from_the_threshold_on() -> None:
    files = [f"{A}v1/720p/seg_{i:05}.m4s" for i in range(10)]
    others = [f"{A}v1/master.m3u8", f"{B}v3/master.m3u8"]
    (batch,) = plan_invalidations(files + others, reference="r", limits=LIMITS)
    assert batch.paths == (f"{A}v1/720p/*", *sorted(others))


def test_a_custom_threshold_is_honoured() -> None:
    limits = InvalidationLimits(fold_min_files=2)
    (batch,) = plan_invalidations(
        [f"{A}v1/a.m4s", f"{A}v1/b.m4s", f"{B}v1/c.m4s"], reference="r", limits=limits
    )
    assert batch.paths == (f"{A}v1/*", f"{B}v1/c.m4s")


@pytest.mark.parametrize("folder", ["/", "/assets/"])
def test_shallow_folders_are_never_folded(folder: str) -> None:
    files = [f"{folder}file{i}.json" for i in range(50)]
    (batch,) = plan_invalidations(files, reference="r", limits=LIMITS)
    assert batch.wildcards == 0
    assert len(batch.paths) == 50


def test_an_explicit_root_folder_is_honoured() -> None:
    assert _paths(plan_invalidations(["/", f"{A}x.m3u8"], reference="r", limits=LIMITS)) == ["/*"]


def test_file_batches_hold_at_most_max_paths() -> None:
    # One file in each of 7000 folders: nothing to fold.
    files = [f"/assets/{uuid.UUID(int=i)}/v1/master.m3u8" for i in range(7000)]
    batches = plan_invalidations(files, reference="r", limits=LIMITS)
    assert [len(batch.paths) for batch in batches] == [3000, 3000, 1000]
    assert sorted(_paths(batches)) == sorted(files)


def test_wildcard_batches_hold_at_most_max_wildcards() -> None:
    folders = [f"/assets/{uuid.UUID(int=i)}/" for i in range(40)]
    batches = plan_invalidations(folders, reference="r", limits=LIMITS)
    assert [batch.wildcards for batch in batches] == [15, 15, 10]


def test_mixed_batches_respect_both_limits_and_lose_nothing() -> None:
    folders = [f"/assets/{uuid.UUID(int=i)}/" for i in range(20)]
    files = [f"/assets/{uuid.UUID(int=10_000 + i)}/v1/master.m3u8" for i in range(5000)]
    batches = plan_invalidations(folders + files, reference="r", limits=LIMITS)
    assert [(batch.wildcards, len(batch.paths)) for batch in batches] == [(15, 3000), (5, 2020)]
    assert sorted(_paths(batches)) == sorted([f"{f}*" for f in folders] + files)


def test_tiny_limits_still_make_progress() -> None:
    limits = InvalidationLimits(max_paths=1, max_wildcards=1)
    batches = plan_invalidations([A, B, f"/x{A}"], reference="r", limits=limits)
    assert all(len(batch.paths) == 1 for batch in batches)
    assert len(batches) == 3


def test_caller_references_are_the_reference_and_the_batch_index() -> None:
    folders = [f"/assets/{uuid.UUID(int=i)}/" for i in range(31)]
    batches = plan_invalidations(folders, reference="job:42:publish", limits=LIMITS)
    assert [batch.caller_reference for batch in batches] == [
        "job:42:publish#0",
        "job:42:publish#1",
        "job:42:publish#2",
    ]


def test_unusual_references_are_hashed_deterministically() -> None:
    first = plan_invalidations([A], reference="purge for ünïcode asset", limits=LIMITS)
    again = plan_invalidations([A], reference="purge for ünïcode asset", limits=LIMITS)
    other = plan_invalidations([A], reference="purge for another asset", limits=LIMITS)
    assert first == again
    assert first[0].caller_reference.startswith("sha256-")
    assert first[0].caller_reference != other[0].caller_reference
    long = plan_invalidations([A], reference="x" * 500, limits=LIMITS)
    assert len(long[0].caller_reference) < 64


@pytest.mark.parametrize("seed", range(5))
def test_order_and_duplicates_do_not_change_the_plan(seed: int) -> None:
    rng = random.Random(seed)
    paths = _random_paths(rng, 4000)
    expected = plan_invalidations(paths, reference="r", limits=LIMITS)
    shuffled = paths + rng.sample(paths, 100)
    rng.shuffle(shuffled)
    assert plan_invalidations(shuffled, reference="r", limits=LIMITS) == expected


@pytest.mark.parametrize("seed", range(5))
def test_every_path_is_covered_exactly_once_within_limits(seed: int) -> None:
    rng = random.Random(seed)
    paths = _random_paths(rng, 6000)
    limits = InvalidationLimits(max_paths=rng.choice([7, 100, 3000]), max_wildcards=15)
    batches = plan_invalidations(paths, reference="r", limits=limits)
    planned = _paths(batches)
    assert len(planned) == len(set(planned))
    planned_set = set(planned)
    # A folder `x/` is planned as `x/*`; every input is planned or lies below a wildcard.
    assert all(_covered(f"{p}*" if p.endswith("/") else p, planned_set) for p in paths)
    # Nothing planned is redundant: no path lies below another planned wildcard.
    assert not any(_covered(p, planned_set - {p}) for p in planned)
    for batch in batches:
        assert len(batch.paths) <= limits.max_paths
        assert batch.wildcards <= limits.max_wildcards


@pytest.mark.parametrize(
    "path",
    ["", "assets/x", "/a/*", "/a/../b", "/a b", "/a?x=1", "/a#f", "/a//b", "/a\n"],
)
def test_paths_that_are_not_ours_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="not an absolute URL path"):
        plan_invalidations([path], reference="r", limits=LIMITS)


def test_an_empty_purge_plans_nothing_and_a_reference_is_required() -> None:
    assert plan_invalidations([], reference="r", limits=LIMITS) == []
    with pytest.raises(ValueError, match="reference"):
        plan_invalidations([A], reference="", limits=LIMITS)


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError):
        InvalidationLimits(max_paths=0)


def _random_paths(rng: random.Random, count: int) -> list[str]:
    assets = [f"/assets/{uuid.UUID(int=rng.getrandbits(128))}/" for _ in range(60)]
    paths: list[str] = []
    for _ in range(count):
        asset = rng.choice(assets)
        kind = rng.random()
        if kind < 0.01:
            paths.append(asset)
        elif kind < 0.03:
            paths.append(f"{asset}v{rng.randint(1, 3)}/")
        else:
            rendition = rng.choice(["360p", "720p", "1080p", "audio"])
            name = rng.choice(["index.m3u8", f"seg_{rng.randint(0, 400):05}.m4s"])
            paths.append(f"{asset}v{rng.randint(1, 3)}/{rendition}/{name}")
    return paths
