"""One configuration object, built once at the edge (CLI) and passed down.

Precedence: defaults < ``STREAMVOICE_*`` environment < CLI flags. Nothing below the CLI reads the
environment: modules receive the sections of :class:`Config` they need.

Environment names: ``STREAMVOICE_MODELS`` sets the model directory; any other field is
``STREAMVOICE_<SECTION>__<FIELD>`` (for example ``STREAMVOICE_SERVER__PORT=9000``,
``STREAMVOICE_ASR__MODEL=whisper-tiny.en``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

ENV_PREFIX = "STREAMVOICE_"


def default_models_dir() -> Path:
    """The user's cache directory, as XDG says (no extra dependency for one path)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "streamvoice" / "models"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelsConfig(_Section):
    dir: Path = Field(default_factory=default_models_dir, description="where installed models live")
    hub_timeout_s: float = Field(8.0, description="how long to wait for a model hub before failing")


class AsrConfig(_Section):
    model: str = Field("whisper-base", description="model name from `streamvoice models list`")
    backend: str = Field(
        "auto", description="engine from streamvoice.asr.loader.ASR_BACKENDS; auto = mlx on macOS arm64, else the first"
    )
    extra_models: tuple[str, ...] = Field((), description="more ASR models loaded beside `model`; sessions choose")
    partial_model: str = Field(
        "", description="a smaller model for partial decodes, the session's model for finals ('' = off; partials "
        "commit words, so its accuracy shows: bench.asr_wer --partial-model)",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = Field("auto", description="ctranslate2 compute type; auto = int8 on CPU, float16 on CUDA")
    threads: int = Field(
        0, ge=0, description="intra-op threads per decode; 0 = auto (1 on CPU: one thread decoded as fast as two "
        "and spent a third less CPU, bench.asr_cost; the cores go to parallel_decodes instead)",
    )
    parallel_decodes: int = Field(
        0, ge=0, le=32,
        description="decodes run at once, each with its own threads; 0 = auto (the cores on CPU, 1 on CUDA)",
    )
    language: str = Field("auto", description="'auto' or an ISO code such as 'en'")
    task: Literal["transcribe", "translate"] = "transcribe"
    vad_aggressiveness: int = Field(2, ge=0, le=3)
    end_of_speech_ms: int = Field(600, ge=100, le=5000)
    partial_interval_ms: int = Field(500, ge=100, le=5000, description="cadence of re-decoding for partials")
    max_utterance_s: float = Field(30.0, ge=2.0, le=120.0)
    beam_size: int = Field(5, ge=1, le=8, description="beam width of final decodes (greedy = 1 garbles fast speech)")
    partial_beam_size: int = Field(
        5, ge=1, le=8, description="beam width of partial decodes: they commit the words and set the latency"
    )
    window_s: float = Field(15.0, ge=2.0, le=28.0, description="longest audio re-decoded at once; then it slides")
    committed_context_s: float = Field(
        3.0, ge=0.0, le=10.0,
        description="decodes start this long before the last committed word (0: the whole window)",
    )
    final_context_s: float = Field(
        10.0, ge=0.0, le=28.0,
        description="a final's decode starts this long before the last committed word (0: the whole window)",
    )
    vad_frame_ms: int = Field(30, description="webrtcvad frame: 10, 20 or 30 ms")
    lock_language: bool = Field(False, description="once the session's language is settled, never switch it")
    languages: tuple[str, ...] = Field((), description="with language auto: detect only among these codes")
    hangover_ms: int = Field(200, ge=0, le=1000, description="audio after the last voiced frame kept for the final")
    commit_margin_ms: int = Field(500, ge=0, le=3000, description="audio after a word before it may be committed")
    eager_ms: int = Field(
        0, ge=0, le=5000, description="silence before an eager final (PROTOCOL 6.4); 0 = off, below end_of_speech_ms"
    )
    final_lookahead_ms: int = Field(
        400, ge=0, le=5000,
        description="start the final's decode this long before end_of_speech_ms of silence is reached "
        "(never before hangover_ms); its result is the final if no speech came back, else it is dropped",
    )
    encoder_window: Literal["adaptive", "full"] = Field(
        "adaptive", description="encode only the audio (+1 s) or pad every decode to Whisper's 30 s window"
    )

    @field_validator("vad_frame_ms")
    @classmethod
    def _vad_frame(cls, value: int) -> int:
        if value not in (10, 20, 30):
            raise ValueError("webrtcvad takes frames of 10, 20 or 30 ms")
        return value


class TtsConfig(_Section):
    model: str = "kokoro-82m"
    backend: str = Field(
        "auto", description="engine from streamvoice.tts.loader.TTS_BACKENDS; auto = mlx on macOS arm64, else the first"
    )
    voice: str = "af_heart"
    speed: float = Field(1.0, ge=0.5, le=2.0)
    threads: int = Field(0, ge=0, description="intra-op threads; 0 = number of cores")
    frame_ms: int = Field(60, ge=20, le=200, description="size of audio frames sent to clients")
    first_audio_window_ms: int = Field(
        0, ge=0, le=2000,
        description="a turn's first chunk is vocoded in two windows, the first at least this long and sent at "
                    "once (longer on a slower machine, so playback never runs dry); 0 = whole chunks only",
    )
    skip_silent_frames: bool = Field(
        True, description="vocode only a chunk's frames that can sound (Kokoro int8 on ONNX Runtime): the leading "
                          "pad's and closing pause's silent frames are zeros, not vocoder work",
    )


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    max_sessions: int = Field(32, ge=1)
    token: str | None = Field(None, description="if set, clients must present it (hello or Authorization)")
    allowed_origins: tuple[str, ...] = Field((), description="browser Origins allowed; empty = same host only")
    max_frame_bytes: int = Field(1 << 20, ge=1024)
    max_text_chars: int = Field(20_000, ge=100)
    max_messages_per_s: int = Field(200, ge=10)
    max_audio_lead_ms: int = Field(1500, ge=100, description="TTS audio sent ahead of the client's playback")
    max_asr_lag_ms: int = Field(6000, ge=500, description="past this, the oldest unprocessed audio is dropped")
    slow_client_timeout_s: float = Field(10.0, gt=0)
    shutdown_timeout_s: float = Field(10.0, gt=0)
    web_root: Path | None = Field(None, description="caption page folder; default clients/web")
    asr_max_batch: int = Field(
        1, ge=1, le=32,
        description="ASR windows of different sessions decoded in one batch; 1 on CPU, where parallel decodes hold "
        "more streams (bench.asr_capacity: 3 one at a time, 2 batched); raise it on a GPU",
    )
    vad_barge_in: bool = Field(False, description="stop TTS playback when the user starts speaking")
    hello_timeout_s: float = Field(10.0, gt=0, description="a connection must send hello within this")
    self_hearing: bool | None = Field(
        None, description="hold back recognition of the server's own reply coming back through the microphone "
                          "(PROTOCOL 6.12); default: on with an agent or vad_barge_in",
    )
    self_hearing_tail_s: float = Field(1.5, ge=0.0, le=10.0, description="a reply counts as audible this long "
                                       "after its last audio (and its delay)")
    self_hearing_delay_s: float = Field(1.0, ge=0.0, le=5.0, description="how late the echo of a reply word may "
                                        "be heard behind its estimated playback")
    self_hearing_min_user_words: int = Field(2, ge=1, le=10, description="consecutive words unlike the reply "
                                             "that make an utterance over it the user's")


class AgentConfig(_Section):
    """The server-side voice agent: who answers each final (PROTOCOL §6.11)."""

    kind: str = Field("none", description="none | echo | llm | module:function (a Python callable)")
    llm_url: str | None = Field(None, description="OpenAI-compatible base URL (…/v1 or …/v1/chat/completions)")
    llm_model: str | None = Field(None, description="model name sent to the LLM server")
    system_prompt_file: Path | None = Field(None, description="file whose text is the system message")
    api_key: str | None = Field(None, description="Bearer key for the LLM server (env STREAMVOICE_AGENT__API_KEY)")
    history_tokens: int = Field(3000, ge=64, description="conversation kept for the LLM, counted with tiktoken")
    timeout_s: float = Field(20.0, gt=0, description="longest wait for the LLM's answer or its next token")
    max_tokens: int | None = Field(None, ge=1, description="max_tokens asked of the LLM (absent: its default)")


class WebrtcConfig(_Section):
    """WebRTC calls (PROTOCOL §13): where the server looks for its ICE candidates."""

    ice_servers: tuple[str, ...] = Field(
        (), description="STUN/TURN URLs (stun:host:3478, turn:host:3478?transport=udp); empty = host candidates only"
    )
    ice_username: str | None = Field(None, description="username for the turn: URLs")
    ice_credential: str | None = Field(None, description="credential for the turn: URLs")


class Config(_Section):
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    asr: AsrConfig = Field(default_factory=AsrConfig)
    tts: TtsConfig = Field(default_factory=TtsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    webrtc: WebrtcConfig = Field(default_factory=WebrtcConfig)
    log_level: str = "INFO"


class ConfigError(ValueError):
    """A setting has a bad value; the message names the setting and what is allowed."""


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping (tests pass their own)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._given.items()}


class _Environment(BaseSettings):
    """The ``STREAMVOICE_*`` layer, parsed by pydantic-settings (``SECTION__FIELD`` nests)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore",
                                      enable_decoding=False)
    models: str | dict[str, str] | None = None  # STREAMVOICE_MODELS is the folder
    asr: dict[str, str] = {}
    tts: dict[str, str] = {}
    server: dict[str, str] = {}
    agent: dict[str, str] = {}
    webrtc: dict[str, str] = {}
    log_level: str | None = None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: Any, *_: Any,
                                   **__: Any) -> tuple[Any, ...]:
        return (init_settings,)  # only what _env_layer passes in (read from its mapping by _EnvSource)


def _env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    """The environment as a partial config; comma-separated values fill tuple fields."""
    raw = _Environment(**_EnvSource(_Environment, env)())
    layer: dict[str, Any] = raw.model_dump(exclude_none=True)
    if isinstance(raw.models, str):
        layer["models"] = {"dir": raw.models}
    for section, values in layer.items():
        if not isinstance(values, dict):
            continue
        fields = Config.model_fields[section].annotation.model_fields  # type: ignore[union-attr]
        for name, value in values.items():
            if name in fields and get_origin(fields[name].annotation) is tuple:
                values[name] = tuple(v.strip() for v in value.split(",") if v.strip())
    return {k: v for k, v in layer.items() if v != {}}


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            out[key] = _merge(out[key] if isinstance(out.get(key), dict) else {}, value)
        else:
            out[key] = value
    return out


def load_config(env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Build the config from environment and CLI overrides (``{"server": {"port": 9000}}``)."""
    data = _merge(_env_layer(env if env is not None else os.environ), overrides or {})
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration ({problems}); fix the flag or STREAMVOICE_* variable") from None
