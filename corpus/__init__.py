"""Articles in, passages out: models, store, ingest and Arabic-aware splitting."""
