"""Model cards, the model registry and its sources, hardware detection."""
