"""Planning CloudFront invalidations: pure, deterministic, independent of the order of the paths.

`plan_invalidations` turns the paths of one purge into `Batch`es, one CreateInvalidation call
each, whose caller references derive from the purge's reference: a retried purge plans the same
batches, which CloudFront recognises as the invalidations it already has.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from cdn_adapters.base import check_path

# References short and plain enough to be read in the console are used as they are.
_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9._:/-]{1,96}")


@dataclass(frozen=True)
class InvalidationLimits:
    max_paths: int = 3000  # paths in one invalidation, and file paths in flight
    max_wildcards: int = 15  # wildcard paths in flight
    # Files of one folder are folded into `folder/*` from this many on...
    fold_min_files: int = 10
    # ...if the folder is at least this deep: never `/*`, never `/assets/*`.
    fold_min_depth: int = 2

    def __post_init__(self) -> None:
        if min(self.max_paths, self.max_wildcards, self.fold_min_files) < 1:
            raise ValueError(f"invalidation limits must be at least 1: {self}")


@dataclass(frozen=True)
class Batch:
    """One CreateInvalidation call."""

    caller_reference: str
    paths: tuple[str, ...]

    @property
    def wildcards(self) -> int:
        return sum(path.endswith("*") for path in self.paths)


def plan_invalidations(
    paths: Iterable[str], *, reference: str, limits: InvalidationLimits
) -> list[Batch]:
    """The invalidations that purge `paths`, with caller references derived from `reference`.

    Rules, in order: a folder (ending in ``/``) becomes ``folder/*``; files of one folder are
    folded into ``folder/*`` when there are at least `fold_min_files` of them and the folder is
    at least `fold_min_depth` deep; anything below a wildcard is dropped. Wildcards, then
    files, are sorted and cut into batches of at most `max_wildcards` wildcards and
    `max_paths` paths in all; batch ``i`` gets the caller reference ``{reference}#{i}``.
    """
    folders: set[str] = set()
    files: set[str] = set()
    for path in paths:
        check_path(path)
        (folders if path.endswith("/") else files).add(path)
    folders |= _folded(files, limits)
    folders = {folder for folder in folders if not _below_any(folder, folders)}
    files = {file for file in files if not _below_any(file, folders)}
    tag = reference_tag(reference)
    chunks = _chunks(sorted(f"{folder}*" for folder in folders), sorted(files), limits)
    return [Batch(f"{tag}#{index}", chunk) for index, chunk in enumerate(chunks)]


def reference_tag(reference: str) -> str:
    """The reference as it appears in caller references: itself if plain, else its digest."""
    if not reference:
        raise ValueError("a purge needs a non-empty reference")
    if _PLAIN_REFERENCE.fullmatch(reference):
        return reference
    return "sha256-" + hashlib.sha256(reference.encode()).hexdigest()[:40]


def _folded(files: set[str], limits: InvalidationLimits) -> set[str]:
    by_folder: dict[str, int] = defaultdict(int)
    for file in files:
        by_folder[file.rsplit("/", 1)[0] + "/"] += 1
    return {
        folder
        for folder, count in by_folder.items()
        if count >= limits.fold_min_files
        and len([part for part in folder.split("/") if part]) >= limits.fold_min_depth
    }


def _below_any(path: str, folders: set[str]) -> bool:
    """Whether a strict ancestor folder of `path` (a file or a folder) is in `folders`."""
    parts = path.rstrip("/").split("/")[:-1]
    return any("/".join(parts[: i + 1]) + "/" in folders for i in range(len(parts)))


def _chunks(
    wildcards: list[str], files: list[str], limits: InvalidationLimits
) -> list[tuple[str, ...]]:
    chunks: list[tuple[str, ...]] = []
    w = f = 0
    while w < len(wildcards) or f < len(files):
        taken_w = wildcards[w : w + min(limits.max_wildcards, limits.max_paths)]
        taken_f = files[f : f + limits.max_paths - len(taken_w)]
        chunks.append((*taken_w, *taken_f))
        w += len(taken_w)
        f += len(taken_f)
    return chunks
