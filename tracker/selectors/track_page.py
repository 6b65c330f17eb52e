"""track_page selectors (filled in by its area)."""

__all__: list[str] = []
