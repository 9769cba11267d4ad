"""Articles in, passages out: models, store, ingest and Arabic-aware splitting."""

from pathlib import Path

# The corpus that ships with the package: a seed article and 200 SaudiNewsNet articles.
BUNDLED_CORPUS = Path(__file__).resolve().parent / "data"
