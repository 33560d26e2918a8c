"""The one error class of the worker: a code (also the Temporal ApplicationError type) and a message naming the problem."""
from __future__ import annotations


class WorkerError(Exception):
    """Bad input or an unrecoverable training state. Never retryable: the same input fails the same way."""

    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    DATASET_NOT_FOUND = "DATASET_NOT_FOUND"
    UNKNOWN_METHOD = "UNKNOWN_METHOD"
    INVALID_INPUT = "INVALID_INPUT"
    EMPTY_FORGET_SET = "EMPTY_FORGET_SET"
    BAD_FORGET_SET = "BAD_FORGET_SET"
    # An image of one request that cannot be decoded: fails that step at once, before the model is loaded,
    # instead of retrying and holding the GPU queue.
    UNREADABLE_IMAGE = "UNREADABLE_IMAGE"
    BAD_PARENT_ADAPTER = "BAD_PARENT_ADAPTER"
    LORA_TARGET_NO_MATCH = "LORA_TARGET_NO_MATCH"
    NAN_LOSS = "NAN_LOSS"

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
