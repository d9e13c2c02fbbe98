from . import addon  # noqa: F401
