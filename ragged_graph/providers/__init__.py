"""Chat models per provider, and the mapping of their failures onto typed errors."""
