"""A fine-tuned transformer model as a plain ``transformers`` text-classification pipeline.

For comparisons only (benchmarks/ measures stancekit's inference against it): the
pipeline runs the fp32 encoder and one task's head with the same pooling, without the
length sorting or the int8 path, and computes the probabilities of
``predict_scores`` with ``precision="fp32"`` before calibration.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ..labels import TASKS

if TYPE_CHECKING:
    from .transformer import TransformerClassifier


@lru_cache(maxsize=1)
def _pipeline_model_class():
    import copy

    import torch
    from transformers import BertPreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    class MeanPooledBertClassifier(BertPreTrainedModel):
        """The fine-tuned encoder and one head as a ``transformers`` model, for pipelines."""

        def __init__(self, classifier: "TransformerClassifier", task: str) -> None:
            config = copy.deepcopy(classifier.encoder_.config)
            labels = list(classifier.classes_[TASKS.index(task)])
            config.id2label = dict(enumerate(labels))
            config.label2id = {label: index for index, label in enumerate(labels)}
            config.num_labels = len(labels)
            super().__init__(config)
            self.bert = classifier.encoder_
            self.head = classifier.heads_[task]
            self.pooling = classifier.pool
            self.eval()

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **kwargs):
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            return SequenceClassifierOutput(logits=self.head(self.pooling(hidden, attention_mask)))

    return MeanPooledBertClassifier


def to_pipeline(model: "TransformerClassifier", task: str = "stance"):
    """A ``transformers`` text-classification pipeline over ``model``'s fp32 encoder and ``task`` head."""
    from sklearn.utils.validation import check_is_fitted
    from transformers import pipeline

    check_is_fitted(model)
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    network = _pipeline_model_class()(model, task)
    return pipeline("text-classification", model=network, tokenizer=model.tokenizer_,
                    device="cpu", function_to_apply="softmax")
