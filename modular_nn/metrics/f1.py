"""F1 score: 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall."""

from __future__ import annotations

from modular_nn.metrics.base import AveragedMetric


class F1Score(AveragedMetric):
    """2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall
    (scikit-learn's ``f1_score``).

    Args:
        average: ``binary`` (class 1 of a binary output), ``macro`` (the mean over the
            classes that occur), ``micro`` (from counts summed over classes),
            ``weighted`` (the mean weighted by each class's support), or ``auto`` (the
            default: binary for a binary output, macro for several classes).

    Exact over batches: computed from the confusion matrix, a sum of counts.
    """

    type_name = "f1"
    score = "f1"
