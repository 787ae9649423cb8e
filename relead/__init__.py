"""relead: the core. Loading, validation, the immutable model and what is derived from it.

Both ``site_builder`` and ``outreach`` build on this package; it does no network
I/O and writes nothing but ``history/`` records (through :mod:`relead.history`).
"""

__version__ = "0.1.0"
