"""Curation: leads and staff keep a track current in the browser.

Every change is made the way a file would make it: the track is exported to its file's data
(`curriculum.exporter`), the edit is applied to that data, and the result goes through the
loader (`curriculum.loader`): the same schema and messages, the same derived fields, history
records, structure versions and signals as `load_curriculum`. Uploads are files, previewed
first. `services.py` writes, `selectors.py` reads, `views.py` serves the pages.
"""
