"""stancekit's model kinds (``tfidf``, ``transformer``, ``ensemble``), their shared base class and parts.

The kinds are listed, by import path, in ``stancekit.registry.MODEL_KINDS``; importing
this package loads none of them (torch and transformers load with the transformer).
"""
