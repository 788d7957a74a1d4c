"""The package's exceptions, below everything that raises them."""


class ConfigError(ValueError):
    """Bad user input: the message is one line saying what was expected and how to fix it."""
