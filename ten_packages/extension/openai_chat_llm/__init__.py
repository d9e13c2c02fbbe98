from . import addon

__all__ = ["addon"]
