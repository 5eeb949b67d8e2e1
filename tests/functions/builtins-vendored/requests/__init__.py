__version__ = "vendored"
