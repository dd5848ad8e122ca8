"""Custom Rasa input channels (referenced by module path in bot/credentials.yml)."""
