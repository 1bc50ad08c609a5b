"""Config precedence: defaults < environment < CLI overrides, with clear errors."""

from pathlib import Path

import pytest

from streamvoice.config import ConfigError, load_config


def test_defaults_when_nothing_is_set() -> None:
    config = load_config(env={})
    assert config.server.port == 8765
    assert config.asr.model == "whisper-base"
    assert config.tts.voice == "af_heart"


def test_environment_overrides_defaults() -> None:
    config = load_config(
        env={"STREAMVOICE_MODELS": "/m", "STREAMVOICE_SERVER__PORT": "9001", "STREAMVOICE_ASR__LANGUAGE": "de",
             "STREAMVOICE_SERVER__ALLOWED_ORIGINS": "http://a, http://b", "OTHER": "x"}
    )
    assert config.models.dir == Path("/m")
    assert config.server.port == 9001
    assert config.asr.language == "de"
    assert config.server.allowed_origins == ("http://a", "http://b")


def test_cli_overrides_environment() -> None:
    config = load_config(env={"STREAMVOICE_SERVER__PORT": "9001"}, overrides={"server": {"port": 9002}})
    assert config.server.port == 9002


def test_bad_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_config(env={"STREAMVOICE_SERVER__PORT": "not-a-port"})


def test_unknown_field_is_an_error() -> None:
    with pytest.raises(ConfigError, match="asr.modle"):
        load_config(env={"STREAMVOICE_ASR__MODLE": "x"})


def test_none_values_in_cli_overrides_are_ignored() -> None:
    config = load_config(env={}, overrides={"tts": {"voice": None, "speed": 1.5}})
    assert config.tts.voice == "af_heart"
    assert config.tts.speed == 1.5


def test_asr_stream_settings_reach_the_stream_options() -> None:
    from streamvoice.asr.options import StreamOptions

    config = load_config(env={"STREAMVOICE_ASR__WINDOW_S": "10", "STREAMVOICE_ASR__VAD_FRAME_MS": "20",
                              "STREAMVOICE_ASR__LOCK_LANGUAGE": "true"})
    options = StreamOptions.from_config(config.asr)
    assert (options.window_s, options.vad_frame_ms, options.lock_language) == (10.0, 20, True)
    with pytest.raises(ConfigError, match="vad_frame_ms"):
        load_config(env={"STREAMVOICE_ASR__VAD_FRAME_MS": "25"})


def test_environment_lists_and_backends() -> None:
    config = load_config({"STREAMVOICE_ASR__EXTRA_MODELS": "whisper-tiny.en, whisper-small",
                          "STREAMVOICE_TTS__BACKEND": "onnxruntime", "STREAMVOICE_MODELS": "/m",
                          "streamvoice_server__port": "9001"})
    assert config.asr.extra_models == ("whisper-tiny.en", "whisper-small")
    assert config.tts.backend == "onnxruntime" and str(config.models.dir) == "/m" and config.server.port == 9001
