"""The app's seeded generator (src/shared/random.ts, mulberry32) and Fisher-Yates shuffle, bit for
bit: the same seed gives the same epoch orders and augmentation draws as a tfjs run."""
from typing import Callable, List, MutableSequence

_M = 0xFFFFFFFF


class Rng:
    """Uniform floats in [0, 1) from mulberry32, as createRng / rngAt in JavaScript. `state` is
    mulberry32's state (uint32): a checkpoint keeps it, and rng_at(state) draws on from there."""

    __slots__ = ("state",)

    def __init__(self, state: int) -> None:
        self.state = state & _M

    def __call__(self) -> float:
        a = self.state = (self.state + 0x6D2B79F5) & _M
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & _M
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & _M)) & _M
        return ((t ^ (t >> 14)) & _M) / 4294967296


def create_rng(seed: int) -> Rng:
    """The generator of a seed, as createRng(seed) in JavaScript."""
    return Rng(seed)


def rng_at(state: int) -> Rng:
    """A generator that continues from a state Rng.state gave (rngAt in JavaScript)."""
    return Rng(state)


def shuffle_in_place(values: MutableSequence[int], rng: Callable[[], float]) -> None:
    """Fisher-Yates, from the end, as shuffleInPlace in JavaScript."""
    for i in range(len(values) - 1, 0, -1):
        j = int(rng() * (i + 1))
        values[i], values[j] = values[j], values[i]


def step_seed(seed: int, step: int) -> int:
    """The augmentation generator's seed for one step (augment.ts stepSeed)."""
    h = (((seed & _M) ^ 0x9E3779B9) * 0x85EBCA6B) & _M
    h = (((h ^ (h >> 13) ^ (step & _M)) & _M) * 0xC2B2AE35) & _M
    return (h ^ (h >> 16)) & _M


def first_values(seed: int, count: int) -> List[float]:
    """The first `count` draws of a generator (tests compare them with JavaScript's)."""
    rng = create_rng(seed)
    return [rng() for _ in range(count)]
