"""What the Ray tests do inside the cluster's namespace, as the bot: each function drives the
agent's engine (``[engine] executor = "ray"``) and returns what it saw, for the test to check.

Every wait here ends on an event and is bounded; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.agent import Agent
from core.config import AgentSettings, Config, PersonaSettings
from engine.cache import RenderCache
from engine.engine import CancelToken, Priority, Progress, RenderJob
from engine.errors import RenderError
from engine.ray_worker import RENDER_RESOURCE
from engine.settings import EngineSettings
from engine.types import RenderRequest
from personas.registry import BUILTIN_DIR
from tests import raycluster
from tests.faces import save_picture
from tests.media import speech_clip

WAIT = 240.0  # seconds: a safety net for one render on a busy machine
#: A persona that exists only in the bot's own folders: the workers get it from the bot.
TEST_PERSONA = "clusterpal"
LONG_TEXT = " ".join(["The render keeps going on another machine while the bot waits for it."] * 12)


class Bot:
    """The agent of the tests' bot, with the render log lines it wrote since the last ``mark``."""

    def __init__(self, folder: Path) -> None:
        personas = folder / "personas"
        persona = personas / TEST_PERSONA
        shutil.copytree(BUILTIN_DIR / "friendly", persona)
        toml = (persona / "persona.toml").read_text().replace('name = "friendly"', f'name = "{TEST_PERSONA}"')
        (persona / "persona.toml").write_text(toml.replace('style = "friendly"', 'style = "clusterstyle"'))
        self.folder = folder
        self.config = Config(
            agent=AgentSettings(database=folder / "bot.db"),
            engine=EngineSettings(executor="ray", ray_address=raycluster.HEAD, cache_dir=folder / "cache",
                                  workers=2, width=256, height=256, fps=20),
            personas=PersonaSettings(user_dirs=[personas]),
        )
        self.agent = Agent(self.config)
        self.agent.engine.start()
        self.records: list[logging.LogRecord] = []
        handler = logging.Handler(logging.INFO)
        handler.emit = self.records.append  # type: ignore[method-assign]
        executor_log = logging.getLogger("engine.ray_executor")
        executor_log.setLevel(logging.INFO)
        executor_log.addHandler(handler)
        self.agent.engine.submit(self.request("Ready when you are.")).result(WAIT)  # joins the cluster

    def request(self, text: str | None = None, **fields: Any) -> RenderRequest:
        return replace(self.config.engine.request(TEST_PERSONA, text=text), **fields)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]

    def nodes_used(self) -> list[str]:
        """The node of each render started since the last ``records.clear()``, in order."""
        return [str(r.args[1]) for r in self.records if r.msg.startswith("rendering")]  # type: ignore[index]


class Watch:
    """A job's progress reports, with an event set at the first frame rendered."""

    def __init__(self) -> None:
        self.reports: list[Progress] = []
        self.rendering = threading.Event()

    def __call__(self, progress: Progress) -> None:
        self.reports.append(progress)
        if progress.stage == "rendering" and progress.done > 0:
            self.rendering.set()

    def stages(self) -> list[str]:
        return [p.stage for p in self.reports]


def _outcome(job: RenderJob) -> dict[str, Any]:
    result = job.result(WAIT)
    return {"path": str(result.path), "cached": result.cached, "duration": result.duration,
            "frames": result.frames, "persona": result.persona, "width": result.width, "fps": result.fps}


def _render_slots_free() -> float:
    import ray

    return float(ray.available_resources().get(RENDER_RESOURCE, 0.0))


def _wait_for(condition: Any, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _alive_render_slots() -> float:
    import ray

    return sum(node["Resources"].get(RENDER_RESOURCE, 0.0) for node in ray.nodes() if node["Alive"])


# -- scenarios --------------------------------------------------------------------------------


def spread(bot: Bot) -> dict[str, Any]:
    """A long render holds one node's only slot; four more come in meanwhile (a text, an uploaded clip,
    a photo to animate, Spanish), so the other node takes them."""
    _wait_for(lambda: _render_slots_free() == 2.0, "both nodes to be free")
    bot.records.clear()
    clip = speech_clip(bot.folder / "upload.wav", "A clip uploaded to the bot", "and rendered elsewhere.")
    photo = save_picture(bot.folder / "member.png")
    requests = [bot.request(LONG_TEXT), bot.request("This one goes to whichever node is free."),
                bot.request(audio_path=clip), bot.request("A face from a photo, animated elsewhere.", face=photo),
                bot.request("Hola a todos, bienvenidos al servidor.", lang="es")]
    watches = [Watch() for _ in requests]
    jobs = [bot.agent.engine.submit(requests[0], Priority.INTERACTIVE, watches[0])]
    if not watches[0].rendering.wait(WAIT):
        raise TimeoutError("the long render never reported a frame")
    jobs += [bot.agent.engine.submit(r, Priority.INTERACTIVE, w) for r, w in zip(requests[1:], watches[1:])]
    results = [_outcome(job) for job in jobs]
    return {"results": results, "nodes": bot.nodes_used(), "stages": [w.stages() for w in watches],
            "last": [(w.reports[-1].done, w.reports[-1].total) for w in watches],
            "cache_dir": str(bot.config.engine.cache_dir)}


def cancel(bot: Bot) -> dict[str, Any]:
    """A long render cancelled once it is drawing frames on a worker."""
    _wait_for(lambda: _render_slots_free() == 2.0, "both nodes to be free")
    bot.records.clear()
    watch = Watch()
    request = bot.request(LONG_TEXT, width=512, height=512, fps=25)
    job = bot.agent.engine.submit(request, Priority.INTERACTIVE, watch)
    if not watch.rendering.wait(WAIT):
        raise TimeoutError("the render never reported a frame")
    _wait_for(lambda: _render_slots_free() == 1.0, "the cluster to count the render's slot as taken")
    job.cancel()
    status = job.status.value
    try:
        job.result(WAIT)
        error = None
    except RenderError as exc:
        error = f"{type(exc).__name__}: {exc}"
    _wait_for(lambda: any("stopped" in m for m in bot.messages()), "the remote render to stop")
    _wait_for(lambda: _render_slots_free() == 2.0, "the node's render slot to be free")
    key = bot.agent.pipeline.cache_key(request)
    return {"status": status, "error": error, "messages": bot.messages(),
            "progress": [(p.stage, p.done, p.total) for p in watch.reports],
            "cached": RenderCache(bot.config.engine.cache_dir).lookup(key) is not None,
            "parts": sorted(p.name for p in bot.config.engine.cache_dir.glob("*.part*"))}


def bad_input(bot: Bot) -> dict[str, Any]:
    """A broken upload and a voice sample nobody here can clone with: the cluster's answer and the local one."""
    broken = bot.folder / "broken.ogg"
    broken.write_bytes(b"OggS this is not really an Ogg file" * 50)
    sample = speech_clip(bot.folder / "sample.wav", "My own voice, please.")
    requests = {"broken upload": bot.request(audio_path=broken),
                "voice sample": bot.request("Say it in my voice.", voice_sample=sample)}
    answers = {}
    for what, request in requests.items():
        answers[what] = {"remote": _error(lambda r=request: bot.agent.engine.submit(r).result(WAIT)),
                         "local": _error(lambda r=request: bot.agent.pipeline(
                             r, bot.folder / "local.mp4", lambda *a: None, CancelToken()))}
    return answers


def _error(run: Any) -> str:
    try:
        run()
    except RenderError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def cache_and_dedup(bot: Bot) -> dict[str, Any]:
    """Two identical requests at once share one remote render; a third is answered from the cache."""
    bot.records.clear()
    request = bot.request("Say this once, however often it is asked for.")
    first, second = bot.agent.engine.submit(request), bot.agent.engine.submit(request)
    together = [_outcome(first), _outcome(second)]
    renders_for_two = len(bot.nodes_used())
    again = _outcome(bot.agent.engine.submit(request))
    return {"together": together, "again": again, "renders_for_two": renders_for_two,
            "renders_after": len(bot.nodes_used()), "cache_dir": str(bot.config.engine.cache_dir)}


def kill_worker_node(bot: Bot) -> dict[str, Any]:
    """Two long renders, one per node; the worker node is killed mid-render; then it is replaced."""
    import ray

    _wait_for(lambda: _render_slots_free() == 2.0, "both nodes to be free")
    head = next(node["NodeID"] for node in ray.nodes() if node["Alive"] and "node:__internal_head__" in
                node["Resources"])
    for attempt in range(3):  # Ray may still queue the second behind the first: then place them again
        bot.records.clear()
        watches = [Watch(), Watch()]
        jobs = [bot.agent.engine.submit(bot.request(f"{LONG_TEXT} Take {attempt}.{n}.", width=384, height=384),
                                        Priority.BATCH, w) for n, w in enumerate(watches)]
        for watch in watches:
            if not watch.rendering.wait(WAIT):
                raise TimeoutError("a render never reported a frame")
        victims = [node for node in bot.nodes_used() if node != head]
        if victims and not any(job.future.done() for job in jobs):
            break
        for job in jobs:
            job.result(WAIT)
    else:
        raise AssertionError(f"the renders never ran side by side on both nodes: head {head}, {bot.messages()}")
    killed = raycluster.kill_node(victims[0])
    results = [_outcome(job) for job in jobs]
    messages = bot.messages()
    raycluster.start_node(bot.folder, head=False)  # a new machine takes the dead one's place
    _wait_for(lambda: _alive_render_slots() == 2.0, "the replacement node")
    return {"results": results, "messages": messages, "nodes": bot.nodes_used(), "head": head,
            "victim": victims[0], "killed": killed}


def wav2lip_shared_actor(bot: Bot, checkpoint: str) -> dict[str, Any]:
    """Two wav2lip renders at once, one per node, with the cluster's lip-sync actor paused until both
    have sent their face crops; then the same requests through the in-process model, for comparison."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import ray

    from core.cluster import ray_executor
    from core.plugins import build_plugin_manager
    from core.rendering import build_render_stack
    from engine.models import LIPSYNC
    from engine.models.lipsync.cluster import actor
    from engine.settings import ModelSettings
    from personas.faces import create_face_persona
    from tests.media import decode_frames

    _wait_for(lambda: _render_slots_free() == 2.0, "both nodes to be free")
    folder = bot.folder / "wav2lip"
    if not (folder / "personas" / "lipsyncpal").is_dir():
        folder.mkdir(exist_ok=True)
        create_face_persona(folder / "personas", "lipsyncpal", save_picture(folder / "face.png"))
    models = ModelSettings(lipsync=Path(checkpoint), device="cpu", lipsync_precision="fp32")
    config = bot.config.model_copy(update={
        "models": models, "personas": PersonaSettings(user_dirs=[folder / "personas"]),
        "engine": bot.config.engine.model_copy(update={"width": 128, "height": 128, "fps": 10})})
    stack = build_render_stack(config, build_plugin_manager(config.plugins.disabled))
    executor = ray_executor(config, stack.pipeline)
    executor.connect()
    shared = actor(models)  # the one the workers will find: this cluster has no GPU
    ray.get(shared.pause.remote(), timeout=WAIT)
    # Uploaded clips, not text: the same speech on both sides whatever the voice (the comparison is of the lips).
    requests = [replace(config.engine.request("lipsyncpal", audio_path=speech_clip(folder / f"clip{i}.wav", text)),
                        renderer="wav2lip")
                for i, text in enumerate(("Hello from the first node.", "And hi from the other one."))]
    bot.records.clear()
    with ThreadPoolExecutor(2) as pool:
        remote = [pool.submit(executor, r, folder / f"remote{i}.mp4", lambda *a: None, CancelToken())
                  for i, r in enumerate(requests)]
        try:
            _wait_for(lambda: len(ray.get(shared.stats.remote(), timeout=WAIT)["waiting"]) == 2,
                      "both renders' face crops to reach the shared model")
        finally:
            ray.get(shared.resume.remote(), timeout=WAIT)
        results = [future.result(WAIT) for future in remote]
    stats = ray.get(shared.stats.remote(), timeout=WAIT)
    largest, frames = [], []  # each output's largest pixel difference from the in-process render's (-1: other size)
    for i, (request, result) in enumerate(zip(requests, results)):
        local = stack.pipeline(request, folder / f"local{i}.mp4", lambda *a: None, CancelToken())
        a, b = np.stack(decode_frames(result.path)), np.stack(decode_frames(local.path))
        largest.append(int(np.abs(a.astype(int) - b).max()) if a.shape == b.shape else -1)
        frames.append(len(a))
    local_batcher = stack.models.get(LIPSYNC)
    return {"largest": largest, "frames": frames, "groups": stats["groups"], "nodes": bot.nodes_used(),
            "local_passes": len(local_batcher.batches) if local_batcher is not None else 0}
