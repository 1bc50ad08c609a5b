"""Pure audio helpers (layer 1): PCM codecs, streaming resampling, file reading."""

from streamvoice.audio.pcm import decode_pcm, encode_pcm_s16le
from streamvoice.audio.resample import Resampler, resample

__all__ = ["Resampler", "decode_pcm", "encode_pcm_s16le", "resample"]
