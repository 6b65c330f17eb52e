"""Reads of cohorts: each selector owns its queries (select_related, prefetch, aggregates),
so templates never query."""
