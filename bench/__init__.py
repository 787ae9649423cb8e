"""relead's benchmarks: ``make bench`` (``python -m bench``).

docs/scaling.md states the performance bars as ratios measured side by side in
one run, never as timed tests. This package

* generates a deterministic synthetic repository (:mod:`bench.generate`):
  N leads in ``leads.yaml`` in the style of the example file, the example's
  ``content/``, and M history records spread over two years of daily files;
* measures, each task in a fresh subprocess (so peak memory is per task), the
  bare ``yaml.load(..., Loader=CSafeLoader)`` parse of that ``leads.yaml``
  (the baseline), relead's load + validate + derive
  (``relead.check.check_repository``), and the whole
  ``python -m site_builder build`` command (:mod:`bench.run`);
* takes the median of ``--repeat`` runs (three by default), with ``--scaling``
  also the check and the build in one process (the speed-up from the cores);
* prints the ratios against the bars and writes them to ``<out>/results.json``,
  with a breakdown of where relead's time goes.
"""
