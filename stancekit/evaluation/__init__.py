"""Evaluating a model against labeled data.

- ``results``: scoring predictions (``evaluate_model``, ``EvaluationResult``).
- ``reports``: the summary table, the Markdown report and JSON.
- ``plots``: confusion matrices and reliability curves as PNG.

The scores are those of ``stancekit.metrics``, which model selection uses too.
"""
