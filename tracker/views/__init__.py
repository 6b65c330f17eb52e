"""Learner pages, one module per area; each page is one function view."""
