"""Recall: tp / (tp + fn)."""

from __future__ import annotations

from modular_nn.metrics.base import AveragedMetric


class Recall(AveragedMetric):
    """tp / (tp + fn): of the samples of a class, the fraction predicted in it
    (scikit-learn's ``recall_score``).

    Args:
        average: ``binary`` (class 1 of a binary output), ``macro`` (the mean over the
            classes that occur), ``micro`` (from counts summed over classes),
            ``weighted`` (the mean weighted by each class's support), or ``auto`` (the
            default: binary for a binary output, macro for several classes).

    Exact over batches: computed from the confusion matrix, a sum of counts.
    """

    type_name = "recall"
    score = "recall"
