"""Replies from a causal LM with a chat template: a tiny random GPT-2 loaded through the product's code."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from engine.errors import ModelBusyError, ModelError
from engine.models import LLM, ChatMessage, ModelHub
from engine.models.dialogue import CausalLMReplier
from engine.settings import ModelSettings
from tests.fakes.models import TinyModels, models_config

MESSAGES = [
    ChatMessage("system", "You are Sakura, a cheerful persona. Ada likes jazz."),
    ChatMessage("user", "Hi Sakura, how are you?"),
    ChatMessage("assistant", "Great, thanks!"),
    ChatMessage("user", "What music do I like?"),
]


@pytest.fixture(scope="module")
def replier(tiny_lm: Path) -> CausalLMReplier:
    return CausalLMReplier(tiny_lm, "cpu")


def new_token_counts(replier: CausalLMReplier, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many tokens each generate call adds to its prompt."""
    counts: list[int] = []
    generate = replier.model.generate

    def recording_generate(**kwargs):  # type: ignore[no-untyped-def]
        output = generate(**kwargs)
        counts.append(output.shape[1] - kwargs["input_ids"].shape[1])
        return output

    monkeypatch.setattr(replier.model, "generate", recording_generate)
    return counts


def test_the_hub_loads_the_configured_model_once(tiny_models: TinyModels) -> None:
    hub = ModelHub(models_config(tiny_models))
    assert isinstance(hub.get(LLM), CausalLMReplier)
    assert hub.get(LLM) is hub.get(LLM)
    assert ModelHub(ModelSettings()).get(LLM) is None


def test_the_reply_is_new_text_only_and_deterministic(replier: CausalLMReplier,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []
    encode = replier.tokenizer.__call__

    monkeypatch.setattr(type(replier.tokenizer), "__call__",
                        lambda self, text, **kw: prompts.append(text) or encode(text, **kw))
    text = replier.reply(MESSAGES, max_new_tokens=24, timeout=30)
    assert isinstance(text, str) and text == text.strip() and text
    assert "Sakura" not in text and "<|im_" not in text
    assert replier.reply(MESSAGES, max_new_tokens=24, timeout=30) == text
    # The chat template framed every message and ended with the assistant's turn.
    assert prompts[0].startswith("<|im_start|>system\nYou are Sakura")
    assert prompts[0].endswith("<|im_start|>user\nWhat music do I like?<|im_end|>\n<|im_start|>assistant\n")


def test_length_is_bounded_by_max_new_tokens(replier: CausalLMReplier, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = new_token_counts(replier, monkeypatch)
    replier.reply(MESSAGES, max_new_tokens=5, timeout=30)
    replier.reply(MESSAGES, max_new_tokens=40, timeout=30)
    assert counts[0] <= 5 and counts[0] < counts[1] <= 40


def test_generation_stops_at_the_timeout(replier: CausalLMReplier, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = new_token_counts(replier, monkeypatch)
    started = time.monotonic()
    text = replier.reply(MESSAGES, max_new_tokens=400, timeout=0.0)
    assert time.monotonic() - started < 2.0
    assert isinstance(text, str) and counts == [1]  # one step, then the time criterion stops it


def test_end_of_turn_markers_end_the_reply(replier: CausalLMReplier) -> None:
    tokenizer = replier.tokenizer
    ids = tokenizer.encode("Hello there", add_special_tokens=False)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert replier._clean([*ids, end, *tokenizer.encode("user: more", add_special_tokens=False)]) == "Hello there"
    assert replier._clean(tokenizer.encode(" Hi!<|im_start|>user\nnext", add_special_tokens=False)) == "Hi!"


def test_a_busy_model_answers_busy_after_the_timeout(replier: CausalLMReplier) -> None:
    with replier._lock:
        result: list[BaseException] = []
        worker = threading.Thread(target=lambda: _capture(result, replier))
        worker.start()
        worker.join(5)
    assert len(result) == 1 and isinstance(result[0], ModelBusyError)


def _capture(result: list[BaseException], replier: CausalLMReplier) -> None:
    try:
        replier.reply(MESSAGES, max_new_tokens=5, timeout=0.05)
    except ModelBusyError as error:
        result.append(error)


def test_a_model_without_a_chat_template_is_refused(tiny_lm: Path, tmp_path: Path) -> None:
    plain = Path(shutil.copytree(tiny_lm, tmp_path / "base-lm"))
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    config_file = plain / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    config.pop("chat_template", None)
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelError, match=r"\[models\] llm = .*no chat template"):
        CausalLMReplier(plain, "cpu")


def test_a_missing_folder_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"\[models\] llm = .*does not exist"):
        ModelHub(ModelSettings(llm=tmp_path / "nowhere", device="cpu")).get(LLM)


def recorded_prompts(replier: CausalLMReplier, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The token ids each generate call was given."""
    prompts: list[list[int]] = []
    generate = replier.model.generate

    def recording_generate(**kwargs):  # type: ignore[no-untyped-def]
        prompts.append(kwargs["input_ids"][0].tolist())
        return generate(**kwargs)

    monkeypatch.setattr(replier.model, "generate", recording_generate)
    return prompts


def test_a_conversation_past_the_context_loses_its_oldest_exchanges(replier: CausalLMReplier,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    context = replier.model.config.max_position_embeddings
    turns = [ChatMessage(role, f"Exchange {i}: " + "old news " * 5)
             for i in range(12) for role in ("user", "assistant")]
    messages = [MESSAGES[0], *turns, ChatMessage("user", "What music do I like?")]
    prompts = recorded_prompts(replier, monkeypatch)
    assert isinstance(replier.reply(messages, max_new_tokens=24, timeout=30), str)
    [ids] = prompts
    prompt = replier.tokenizer.decode(ids)
    assert len(ids) + 24 <= context
    assert prompt.startswith("<|im_start|>system\nYou are Sakura") and "<|im_start|>system" not in prompt[1:]
    assert prompt.endswith("<|im_start|>user\nWhat music do I like?<|im_end|>\n<|im_start|>assistant\n")
    kept = [i for i in range(12) if f"Exchange {i}:" in prompt]
    assert kept and kept == list(range(kept[0], 12)) and kept[0] > 0  # the newest, as whole exchanges
    assert prompt.split("<|im_end|>\n", 1)[1].startswith(f"<|im_start|>user\nExchange {kept[0]}:")


def test_a_system_prompt_past_the_context_keeps_its_end(replier: CausalLMReplier, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    context = replier.model.config.max_position_embeddings
    prompts = recorded_prompts(replier, monkeypatch)
    messages = [ChatMessage("system", "Be kind. " * 200), ChatMessage("user", "What music do I like?")]
    assert isinstance(replier.reply(messages, max_new_tokens=10_000, timeout=30), str)
    [ids] = prompts
    assert len(ids) == context - context // 2  # the reply keeps half the window
    assert replier.tokenizer.decode(ids).endswith("What music do I like?<|im_end|>\n<|im_start|>assistant\n")
    assert "does not fit the language model's 512-token context" in caplog.text


#: Gemma's rule (Mistral's templates have the same): no system role, strictly alternating turns.
NO_SYSTEM_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "<start_of_turn>{{ message['role'] }}\n{{ message['content'] }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def test_a_template_without_a_system_role_gets_the_system_prompt_in_the_first_user_turn(
        tiny_lm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoTokenizer

    folder = Path(shutil.copytree(tiny_lm, tmp_path / "gemma-like"))
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    tokenizer.chat_template = NO_SYSTEM_TEMPLATE
    tokenizer.save_pretrained(folder)
    replier = CausalLMReplier(folder, "cpu")
    prompts = recorded_prompts(replier, monkeypatch)
    assert isinstance(replier.reply(MESSAGES, max_new_tokens=5, timeout=30), str)
    prompt = replier.tokenizer.decode(prompts[0])
    assert prompt.startswith("<start_of_turn>user\nYou are Sakura, a cheerful persona. Ada likes jazz.\n\n"
                             "Hi Sakura, how are you?<end_of_turn>\n")
    assert prompt.endswith("<start_of_turn>user\nWhat music do I like?<end_of_turn>\n<start_of_turn>model\n")
