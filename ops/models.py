"""No models: the module exists so that `post_migrate` reaches this app, which then creates the
database cache's table (see apps.py)."""
