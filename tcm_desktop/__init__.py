"""TCM Structurer: structure Traditional Chinese Medicine records on a clinic PC.

The core (this package, minus ``ui`` and ``training``) never imports PySide6 or
torch; the app runs on onnxruntime alone.
"""

__version__ = "0.1.0"
