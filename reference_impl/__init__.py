"""Reference implementations: one package per protocol, each a sans-IO core and asyncio adapters."""
