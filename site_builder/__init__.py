"""site_builder: renders the static dashboard (`_site/`) from the core's model.

Loading and deriving happen first (:mod:`relead.check`); rendering is pure
(model in, strings out); :mod:`site_builder.writer` is the one place that
writes files.
"""
