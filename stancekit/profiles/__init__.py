"""Profiles: stance and claim-type shares per group (outlet, outlet × month, ...) with honest uncertainty.

- ``records``: scored records checked and turned into group keys, documents and counts;
- ``dates``: the date forms a time field may hold, and period names;
- ``aggregate``: per-document sums, and shares with intervals from a bootstrap over documents;
- ``changes``: the moves of each share between consecutive periods, and which of them count;
- ``api``: ``profile`` and ``profile_changes`` for pandas and dask dataframes;
- ``inputs``, ``outputs``, ``plots``, ``examples``, ``page`` and ``command``: the
  ``stancekit profile`` command's reading, tables, pictures and HTML page.
"""
