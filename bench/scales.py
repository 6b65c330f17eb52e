"""The two sizes of a run. `full` is the contract of issue 15; `small` is CI's smoke check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    tracks: int  # generated tracks, each `modules` x `resources_per_module` resources
    modules: int
    resources_per_module: int
    cohort_members: int  # learners on the first track with about half of it done
    nudge_learners: int  # learners due for a nudge in the bench hour (cohort members included)
    nudge_runs: int  # timed deliveries to all of them (after one warm-up)
    load_repeats: int  # timed runs of each YAML parse/import figure (after one warm-up)
    mark_done_posts: int  # timed mark-done posts (after warm-up posts)
    page_repeats: int  # timed GETs of a page (after warm-up GETs)
    http_seconds: int  # wrk duration per target
    http_warmup_seconds: int
    twin_learners: int  # learners replayed through the real services by the consistency check

    @property
    def resources_per_track(self) -> int:
        return self.modules * self.resources_per_module

    @property
    def heavy_completions(self) -> int:
        """The mark-done learner's prior completions: half of every track."""
        return self.tracks * (self.resources_per_track // 2)


SCALES = {
    "full": Scale(
        name="full",
        tracks=20,
        modules=25,
        resources_per_module=20,
        cohort_members=2_000,
        nudge_learners=10_000,
        nudge_runs=5,
        load_repeats=5,
        # 200 of the 250 resources bench-heavy has not touched: 40 took a third of a second, so
        # one slow moment of a shared machine set the whole figure (docs/performance.md).
        mark_done_posts=200,
        page_repeats=11,
        http_seconds=30,
        http_warmup_seconds=5,
        twin_learners=6,
    ),
    "small": Scale(
        name="small",
        tracks=3,
        modules=10,
        resources_per_module=10,
        cohort_members=100,
        nudge_learners=400,
        nudge_runs=3,
        load_repeats=5,
        mark_done_posts=10,
        page_repeats=5,
        http_seconds=3,
        http_warmup_seconds=1,
        twin_learners=3,
    ),
}
