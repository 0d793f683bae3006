"""kkik-harness: accessibility measurements of Swedish municipalities, the KKiK way."""

__version__ = "0.1.0"
