"""The persona's next line in a conversation, from a causal LM with a chat template (a local folder).

The prompt is the model's own chat template applied to the messages the caller assembled
(system prompt, remembered facts, recent turns). Generation is bounded twice: by
``max_new_tokens`` and by wall-clock time (a stopping criterion checked after every token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ModelBusyError, ModelError
from engine.models.devices import model_dtype, resolve_device
from engine.models.loading import load

if TYPE_CHECKING:
    import torch

    from engine.models.kinds import ChatMessage

log = logging.getLogger(__name__)

#: Markers chat templates put at the end of a turn; generation stops at those in the vocabulary,
#: and text after one (a model writing the next turn itself) is cut off.
END_OF_TURN_MARKERS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>",
                       "<|im_start|>", "<start_of_turn>")


class CausalLMReplier:
    """Loads once; ``reply`` is blocking and serialised by a lock (call it from a worker thread)."""

    def __init__(self, model_dir: Path, device: str = "auto") -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelError(f"[models] llm = \"{self.model_dir}\": that folder does not exist. Put a chat model "
                             "saved with save_pretrained() there (see the README's Models section) "
                             "or remove the setting.")
        self.tokenizer = load("llm", self.model_dir,
                              lambda: AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True))
        if not getattr(self.tokenizer, "chat_template", None):
            raise ModelError(f"[models] llm = \"{self.model_dir}\": its tokenizer has no chat template, so it is not "
                             "a chat (instruct) model. Use an instruct model's folder, e.g. one whose name ends in "
                             "-Instruct or -chat.")
        self.device = resolve_device(device)
        self.model = load("llm", self.model_dir, lambda: AutoModelForCausalLM.from_pretrained(
            self.model_dir, local_files_only=True, dtype=self._dtype()))
        self.model.to(self.device).eval()  # type: ignore[arg-type]
        self.stop_ids = self._stop_ids()
        self.system_role = self._accepts_system_role()
        self._torch = torch
        self._lock = threading.Lock()

    def reply(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, timeout: float) -> str:
        """The assistant's next message: at most ``max_new_tokens`` tokens (and half the model's context; a
        longer conversation loses its oldest exchanges first), generation stopped after
        ``timeout`` seconds (counted from this call, waiting for the model included); ``ModelBusyError``
        if the model stays busy with other replies for all of that time."""
        from transformers import MaxTimeCriteria, StoppingCriteriaList

        started = time.monotonic()
        inputs, max_new_tokens = self._fitted_prompt(list(messages), max_new_tokens)
        if not self._lock.acquire(timeout=max(timeout, 0.0)):
            raise ModelBusyError("I'm still busy with other conversations — please try again in a moment.")
        try:
            remaining = max(timeout - (time.monotonic() - started), 0.0)
            with self._torch.inference_mode():
                output = self.model.generate(  # type: ignore[misc, unused-ignore]  # (its type depends on which optional libraries are installed)
                    **inputs, max_new_tokens=max(1, max_new_tokens), do_sample=False,
                    eos_token_id=self.stop_ids or None, pad_token_id=self._pad_id(),
                    stopping_criteria=StoppingCriteriaList([MaxTimeCriteria(remaining, initial_timestamp=time.time())]),
                )
        finally:
            self._lock.release()
        return self._clean(output[0, inputs["input_ids"].shape[1]:].tolist())

    def _fitted_prompt(self, messages: list[ChatMessage], max_new_tokens: int) -> tuple[Any, int]:
        """The tokenized prompt and token budget, within the model's context window: the oldest
        exchanges go first, then (a system prompt alone too long) the start of the prompt; the
        reply keeps at least half the window."""
        context = getattr(self.model.config, "max_position_embeddings", None)
        max_new_tokens = max(1, max_new_tokens if context is None else min(max_new_tokens, context // 2))
        while True:
            prompt = self._render(messages)
            inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
            length = inputs["input_ids"].shape[1]
            if context is None or length + max_new_tokens <= context:
                return inputs.to(self.device), max_new_tokens
            # Drop one whole exchange after the system prompt, so the turns still start with the member's.
            if len(messages) > 3 and messages[1].role == "user" and messages[2].role == "assistant":
                messages = [messages[0], *messages[3:]]
                continue
            room = context - max_new_tokens
            log.warning("a %d-token prompt does not fit the language model's %d-token context; keeping its last %d",
                        length, context, room)
            return {key: value[:, -room:].to(self.device) for key, value in inputs.items()}, max_new_tokens

    def _render(self, messages: list[ChatMessage]) -> str:
        """The prompt text by the model's chat template; a system prompt goes at the head of the first user
        turn for templates that refuse a system role (Gemma's, Mistral's)."""
        turns = [{"role": m.role, "content": m.content} for m in messages]
        if not self.system_role and turns and turns[0]["role"] == "system":
            system = turns.pop(0)["content"]
            if turns and turns[0]["role"] == "user":
                turns[0] = {"role": "user", "content": f"{system}\n\n{turns[0]['content']}"}
            else:
                turns.insert(0, {"role": "user", "content": system})
        return str(self.tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True))

    def _accepts_system_role(self) -> bool:
        from jinja2.exceptions import TemplateError

        try:
            self.tokenizer.apply_chat_template([{"role": "system", "content": "Be brief."},
                                                {"role": "user", "content": "Hi"}],
                                               tokenize=False, add_generation_prompt=True)
        except TemplateError:
            log.info("the chat template of %s has no system role; the system prompt opens the first user turn",
                     self.model_dir)
            return False
        return True

    def _clean(self, new_ids: list[int]) -> str:
        """The generated text up to the first end-of-turn, without special tokens or surrounding space."""
        for index, token in enumerate(new_ids):
            if token in self.stop_ids:
                new_ids = new_ids[:index]
                break
        text = str(self.tokenizer.decode(new_ids, skip_special_tokens=True))
        for marker in END_OF_TURN_MARKERS:
            text = text.split(marker, 1)[0]
        return text.strip()

    def _dtype(self) -> torch.dtype:
        import json

        try:
            config = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
        trained = config.get("dtype") or config.get("torch_dtype")
        # Models trained in bf16 can overflow in fp16; give them bf16 where the GPU has it.
        return model_dtype(self.device, prefer_bfloat16=trained == "bfloat16")

    def _stop_ids(self) -> list[int]:
        """The model's end-of-sequence ids plus every end-of-turn marker its vocabulary has."""
        ids: set[int] = set()
        configured = self.model.generation_config.eos_token_id
        ids.update(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        vocab = self.tokenizer.get_vocab()
        ids.update(vocab[marker] for marker in END_OF_TURN_MARKERS if marker in vocab)
        return sorted(ids)

    def _pad_id(self) -> int | None:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else (self.stop_ids[0] if self.stop_ids else None)
