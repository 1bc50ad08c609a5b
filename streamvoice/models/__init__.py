"""Model catalog, installation from package registries or the hub, and verification."""

from streamvoice.models.errors import ModelError
from streamvoice.models.store import require

__all__ = ["ModelError", "require"]
