"""ragged_graph: a hardware-, persona- and privacy-aware model router for LangChain on Ollama."""
