"""A synthetic, deterministic catalog for tests and benchmarks (`streamcore titles generate`).

The same count, seed and first tmdb id always give the same rows: plausible titles from word
lists and invented names, 1 to 3 genres from a fixed list, years, ratings and runtimes, unique
tmdb ids, and a few series (one in about sixty top-level titles) with 2 to 24 episodes each:
about a fifth of the rows are episodes.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

GENRES = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "History", "Horror", "Music", "Mystery", "Romance", "Science Fiction",
    "Thriller", "War", "Western",
)  # fmt: skip
_ADJECTIVES = (
    "Silent", "Last", "Broken", "Golden", "Hidden", "Crimson", "Distant", "Frozen", "Wild",
    "Forgotten", "Electric", "Midnight", "Lonely", "Burning", "Secret", "Endless", "Quiet",
    "Savage", "Bright", "Hollow", "Northern", "Iron", "Paper", "Glass",
)  # fmt: skip
_NOUNS = (
    "Harbor", "River", "Kingdom", "Garden", "Witness", "Signal", "Orchard", "Empire", "Storm",
    "Letter", "Horizon", "Machine", "Summer", "Promise", "Voyage", "Mirror", "Frontier",
    "Lighthouse", "Detective", "Island", "Symphony", "Heist", "Station", "Winter",
)  # fmt: skip
_PLACES = (
    "Verona", "Lisbon", "the North", "Marrakesh", "Kyoto", "the Valley", "Havana", "Oslo",
    "the Coast", "Patagonia", "Bombay", "the Moon", "Galway", "Tangier", "Yukon", "Naples",
)  # fmt: skip
_NAMES = ("Ada", "Marco", "Nadia", "Theo", "Ines", "Felix", "Yara", "Oskar", "Lena", "Kofi")
# Invented names, as real titles are full of (Casablanca, Tootsie, Amélie): two or three
# syllables, thousands of them, so that a search for one finds few titles.
_SYLLABLES = (
    "ka", "lo", "ri", "mar", "ven", "del", "sa", "tor", "ni", "bel", "ar", "os", "quin", "ra",
    "ze", "mo", "lu", "tes", "gar", "fi", "do", "vik", "an", "sel",
)  # fmt: skip
_PATTERNS = (
    "The {adj} {noun}", "{noun} of {place}", "{adj} {noun}", "A {noun} in {place}",
    "Return to {place}", "The Last {noun}", "{name}'s {noun}", "{adj} {place}",
    "{coined}", "The {coined} Affair", "Letters from {coined}", "{coined} {noun}",
)  # fmt: skip
# `certification` and `access` stay empty: like MovieLens-style data, the generated catalog
# has none (its titles are free).
COLUMNS = (
    "kind", "tmdb_id", "title", "year", "genres", "runtime_min", "rating", "certification",
    "access", "description", "series_tmdb_id", "season_number", "episode_number",
)  # fmt: skip


def _coined(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()


def _title(rng: random.Random) -> str:
    return rng.choice(_PATTERNS).format(
        adj=rng.choice(_ADJECTIVES), noun=rng.choice(_NOUNS), place=rng.choice(_PLACES),
        name=rng.choice(_NAMES), coined=_coined(rng),
    )  # fmt: skip


def _common(rng: random.Random, tmdb_id: int, title: str) -> dict[str, Any]:
    genres = rng.sample(GENRES, rng.choice((1, 1, 2, 2, 2, 3)))
    return {
        "tmdb_id": tmdb_id,
        "title": title,
        "year": rng.randint(1950, 2025) if rng.random() > 0.02 else None,
        "genres": genres,
        "rating": round(rng.uniform(3.0, 9.5), 1) if rng.random() > 0.03 else None,
        "description": (
            f"A {rng.choice(_ADJECTIVES).lower()} story of a {rng.choice(_NOUNS).lower()} "
            f"and the people of {rng.choice(_PLACES)}."
        ),
    }


def generate(count: int, seed: int, first_tmdb_id: int = 1000) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    rows: list[dict[str, Any]] = []
    tmdb_id = first_tmdb_id

    def next_id() -> int:
        nonlocal tmdb_id
        tmdb_id += rng.randint(1, 3)
        return tmdb_id

    while len(rows) < count:
        room = count - len(rows)
        if room >= 3 and rng.random() < 0.02:
            series = {"kind": "series", **_common(rng, next_id(), _title(rng))}
            series["runtime_min"] = None
            rows.append(series)
            episodes = min(rng.randint(2, 24), room - 1)
            per_season = rng.randint(2, 8)
            for number in range(episodes):
                episode = _common(rng, next_id(), f"Episode {number % per_season + 1}")
                episode.update(
                    kind="episode", genres=series["genres"], year=series["year"],
                    runtime_min=rng.randint(20, 65), series_tmdb_id=series["tmdb_id"],
                    season_number=number // per_season + 1,
                    episode_number=number % per_season + 1,
                )  # fmt: skip
                rows.append(episode)
        else:
            movie = {"kind": "movie", **_common(rng, next_id(), _title(rng))}
            movie["runtime_min"] = rng.randint(75, 190)
            rows.append(movie)
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        cells = {k: row.get(k) for k in COLUMNS}
        cells["genres"] = "|".join(row.get("genres") or [])
        writer.writerow({k: "" if v is None else v for k, v in cells.items()})
    return out.getvalue()


def write(rows: list[dict[str, Any]], path: Path) -> None:
    """CSV for a .csv path, else JSON ({"titles": [...]})."""
    if path.suffix.lower() == ".csv":
        path.write_text(to_csv(rows), encoding="utf-8")
    else:
        path.write_text(json.dumps({"titles": rows}, indent=1) + "\n", encoding="utf-8")
