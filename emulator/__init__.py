"""fcemu: a local emulator of Alibaba Cloud Function Compute."""

__version__ = "0.1.0"
