"""Streaming speech synthesis: segmenter, G2P, Kokoro backends, voices."""
