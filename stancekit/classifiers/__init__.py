"""stancekit's models: one module per kind (``tfidf``, ``transformer``, ``accurate``, ``distilled``,
``ensemble``), their shared base class (``base``), explanations (``explanations``) and parts.

The kinds are listed, by import path, in ``stancekit.registry.MODEL_KINDS``; importing
this package loads none of them (torch and transformers load with the transformer).
Models stand on the foundation modules only (labels, artifacts, files, metrics, ...): they
never import the registry, evaluation, jobs, views or the front ends; an ensemble gets its
members' loader handed in.
"""
