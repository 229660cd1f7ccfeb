"""Reading input files and writing output files, record by record.

- ``lines``: the one line reader every file goes through (UTF-8, byte-order mark, NUL bytes).
- ``readers``: input formats (txt, jsonl, csv, parquet) into records.
- ``writers``: output formats (jsonl, csv) from records.
- ``resumable``: an output written through ``.partial`` and ``.progress`` files, continued after an interrupt.
- ``outputs``: the check that no output is one of the inputs.

Nothing here knows about models: ``stancekit.jobs`` joins readers, scoring and writers.
"""
