"""Not-a-number scores. A model whose weights are broken, or that overflows at its precision,
computes NaN logits: their argmax is token 0 (outputs silently empty or garbage) and NaN
log-likelihoods compare as neither larger nor smaller (every choice silently the first option).
Each path of the loaded models checks on the device, reads the answer back with what it reads
anyway, and stops with one line instead of writing such outputs."""
from __future__ import annotations

from ..errors import XlingError


class NotANumber(XlingError):
    """The model's scores were NaN: nothing it produced from them is kept."""

    def __init__(self, dtype: str, what: str = "logits"):
        fix = "check the checkpoint"
        if dtype != "float32":
            fix += ", or run it in float32 on the CPU: CUDA_VISIBLE_DEVICES="
        super().__init__(
            f"the model computed NaN (not-a-number) {what} in {dtype}: its weights are broken or overflow "
            f"at this precision, so its outputs would be meaningless; none was kept from that step on ({fix})")


def nan_watch(torch):
    """A logits processor for `model.generate` that notes, on the device, whether any step's
    scores held a NaN (no host sync per step); `raise_if_seen(dtype)` after generate."""
    from transformers import LogitsProcessor

    class NanWatch(LogitsProcessor):
        def __init__(self):
            self.seen = None

        def __call__(self, input_ids, scores):
            found = scores.isnan().any()
            self.seen = found if self.seen is None else self.seen | found
            return scores

        def raise_if_seen(self, dtype: str) -> None:
            if self.seen is not None and bool(self.seen):
                raise NotANumber(dtype)

    return NanWatch()
