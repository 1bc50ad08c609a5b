"""The session's language policy with plain data: settle on enough audio, hold, switch rarely."""

from __future__ import annotations

from streamvoice.asr.language import LanguagePolicy, LanguageRules, rank_languages


def test_short_or_unsure_detections_do_not_settle_the_session() -> None:
    policy = LanguagePolicy(LanguageRules())
    assert policy.decode_language() is None and not policy.settled
    policy.observe("cy", 0.84, audio_s=2.0, kind="partial")  # accented English, 2 s: Welsh
    policy.observe("cy", 0.71, audio_s=3.0, kind="partial")  # long enough, not sure enough
    assert not policy.settled
    policy.observe("bn", 0.66, audio_s=1.9, kind="final")  # a short final decides nothing either
    assert not policy.settled
    policy.observe("en", 0.88, audio_s=3.0, kind="partial", words=1)  # noise and one word: not enough speech
    assert not policy.settled
    policy.observe("en", 0.88, audio_s=3.0, kind="partial", words=6)
    assert policy.settled and policy.decode_language() == "en"


def test_full_detections_are_rationed_and_quick_ones_never_settle() -> None:
    policy = LanguagePolicy(LanguageRules())
    assert policy.detection("partial", 1.0) == "quick"
    policy.observe("en", 0.99, audio_s=1.0, kind="partial", reliable=False)
    assert not policy.settled
    assert policy.detection("partial", 2.6) == "full"
    policy.observe("cy", 0.7, audio_s=2.6, kind="partial")
    assert policy.detection("partial", 3.1) == "quick"  # tried 0.5 s ago
    assert policy.detection("partial", 3.6) == "full"
    assert policy.detection("final", 1.5) == "full"  # a final always detects reliably


def test_a_held_language_switches_only_on_a_long_confident_final() -> None:
    policy = LanguagePolicy(LanguageRules())
    policy.observe("en", 0.99, audio_s=4.0, kind="partial", words=8)
    assert policy.detection("partial", 10.0) == "none" and policy.detection("final", 2.0) == "none"
    assert policy.detection("final", 5.0) == "check"
    policy.observe("es", 0.99, audio_s=2.0, kind="final")  # too short
    policy.observe("es", 0.90, audio_s=6.0, kind="final")  # not sure enough
    policy.observe("es", 0.99, audio_s=6.0, kind="partial")  # never mid-utterance
    assert policy.decode_language() == "en"
    policy.observe("es", 0.97, audio_s=6.0, kind="final")
    assert policy.decode_language() == "es"


def test_lock_and_fixed_never_switch() -> None:
    locked = LanguagePolicy(LanguageRules(lock=True))
    locked.observe("en", 0.95, audio_s=3.0, kind="partial", words=8)
    assert locked.detection("final", 10.0) == "none"
    locked.observe("es", 0.99, audio_s=10.0, kind="final")
    assert locked.decode_language() == "en"
    fixed = LanguagePolicy(LanguageRules(fixed="de"))
    assert fixed.settled and fixed.decode_language() == "de" and fixed.detection("final", 10.0) == "none"


def test_detection_restricted_to_a_set_is_renormalised() -> None:
    ranked = [("<|en|>", 0.3), ("<|cy|>", 0.6), ("<|es|>", 0.1)]
    assert rank_languages(ranked, ())[:2] == [("cy", 0.6), ("en", 0.3)]
    (code, p), (second, q) = rank_languages(ranked, ("en", "es"))
    assert (code, second) == ("en", "es") and abs(p - 0.75) < 1e-9 and abs(q - 0.25) < 1e-9
    assert rank_languages(ranked, ("fr",)) == [("fr", 0.0)]
