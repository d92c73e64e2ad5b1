"""Text → unit vectors: one encoder interface, each model library behind one module."""
