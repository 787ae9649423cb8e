"""Reading: a repository's files into the immutable model, with every problem located.

In: ``leads.yaml`` (or ``leads/*.yaml``), ``content/`` (settings, campaigns, message
copy, pages) and ``history/``, read from disk and from nowhere else.
Out: a :class:`relead.model.Model` and the problems found on the way, each with
its file and line (:class:`relead.problems.Problems`).

- :mod:`.load`: the one reader of the repository's files; large leads files are
  parsed and validated by several processes (:mod:`relead.jobs`).
- :mod:`.yamlparse`: YAML text into values: a fast parser, PyYAML where they could disagree.
- :mod:`.leadlines`: where each lead is in a leads file's text: lines for problems, runs for workers.
- :mod:`.settings`, :mod:`.leads`, :mod:`.content`: each kind of file into its part of the model.
- :mod:`.values`: one value against its key of :mod:`relead.schema`.
- :mod:`.safepath`: only files inside the repository are read.
"""
