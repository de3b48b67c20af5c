"""Maya: Stripe payments over MCP for Gemini function-calling agents."""

__all__ = ["__version__"]

__version__ = "0.1.0"
