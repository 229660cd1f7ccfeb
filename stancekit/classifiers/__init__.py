"""The models stancekit ships: a TF-IDF baseline and a fine-tuned transformer."""
