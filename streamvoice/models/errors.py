"""The one error type of model installation and loading: its message says what to do."""


class ModelError(RuntimeError):
    """A model is missing, damaged or cannot be fetched; str(error) names the fix."""
