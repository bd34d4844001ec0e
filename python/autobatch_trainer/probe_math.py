"""The shared arithmetic the probes need, bit for bit as the app's TypeScript has it: the noise-scale
estimators (src/shared/tuner-math.ts noiseScaleTerms, NoiseScaleEstimator) and the range test's
smoothed loss (src/shared/learning-rate-range.ts SmoothedLoss, RANGE_TEST_SMOOTHING). The decisions
made from them stay in src/shared: here they only shape what a probe measures and when it stops."""
import math
from typing import Dict

#: RANGE_TEST_SMOOTHING in src/shared/learning-rate-range.ts.
RANGE_TEST_SMOOTHING = 0.9


def js_round(x: float) -> int:
    """JavaScript's Math.round (halves up), not Python's round (halves to even)."""
    return int(math.floor(x + 0.5))


def noise_scale_terms(mean_of_squared_norms: float, squared_norm_of_mean: float, k: int, b: int) -> Dict[str, float]:
    """|G|² and tr Σ from k micro-batch gradients of b samples each (noiseScaleTerms)."""
    if k < 2:
        raise ValueError("the noise scale needs at least 2 micro-batches")
    return {
        "gradSq": (k * squared_norm_of_mean - mean_of_squared_norms) / (k - 1),
        "traceSigma": (mean_of_squared_norms - squared_norm_of_mean) * b * k / (k - 1),
    }


class NoiseScaleEstimator:
    """Exponential moving averages of |G|² and tr Σ; their ratio is the simple noise scale."""

    def __init__(self, decay: float = 0.9) -> None:
        self.decay = decay
        self._g = 0.0
        self._s = 0.0
        self._weight = 0.0
        self.samples = 0

    def add(self, grad_sq: float, trace_sigma: float) -> None:
        if not math.isfinite(grad_sq) or not math.isfinite(trace_sigma):
            return
        self._g = self.decay * self._g + (1 - self.decay) * grad_sq
        self._s = self.decay * self._s + (1 - self.decay) * trace_sigma
        self._weight = self.decay * self._weight + (1 - self.decay)
        self.samples += 1

    @property
    def grad_sq(self) -> float:
        return self._g / self._weight if self._weight else math.nan

    @property
    def trace_sigma(self) -> float:
        return self._s / self._weight if self._weight else math.nan

    @property
    def noise_scale(self) -> float:
        """tr Σ / |G|²: NaN until there is data, +Infinity when the signal is lost in noise."""
        if not self._weight:
            return math.nan
        g = self.grad_sq
        s = max(self.trace_sigma, 0.0)
        return s / g if g > 0 else math.inf


class SmoothedLoss:
    """A bias-corrected exponential moving average of a loss series, and its lowest value so far."""

    def __init__(self, beta: float) -> None:
        self.beta = beta
        self._avg = 0.0
        self._n = 0
        self.lowest = math.inf

    def add(self, loss: float) -> float:
        self._n += 1
        self._avg = self.beta * self._avg + (1 - self.beta) * loss
        value = self._avg / (1 - self.beta**self._n)
        if value < self.lowest:
            self.lowest = value
        return value
