"""The annotation loop: send pre-labeled sentences to people, bring their labels back, and check them.

- ``units``: input files to units to annotate, each with the model's labels (``export``);
- ``label_studio``: Label Studio tasks and labeling interface out, Label Studio JSON exports in;
- ``spreadsheet``: the same round trip as a CSV sheet (Excel's dialect included);
- ``imports``: the checks and counts every import shares, into records of annotations/schema.json;
- ``agreement``: Cohen's kappa per label between annotators of the same units;
- ``suggest``: which unlabeled sentences to annotate next;
- ``audit``: which labels look wrong, from cross-validated probabilities (cleanlab).

Nothing here needs Label Studio installed: its formats are plain JSON, written and read here.
"""
