"""Cohort pages, one function view per page (fragments are `{% partialdef %}` blocks of the
page's template); sub-actions are POST views next to their page."""
