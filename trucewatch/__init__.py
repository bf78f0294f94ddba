"""TruceWatch: ceasefire monitoring and verification."""

__version__ = "0.1.0"

# Installs the hook that lets plugins declare their source kinds and rules before an
# unknown kind is refused (trucewatch.plugins); it imports only the model.
from trucewatch import plugins as _plugins  # noqa: F401
