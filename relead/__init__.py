"""relead: the core. Loading, validation, the immutable model and what is derived from it.

Both ``site_builder`` and ``outreach`` build on this package; it does no network
I/O and writes nothing but ``history/`` records (through :mod:`relead.history`) and
the leads files (through :mod:`relead.intake.splice`).

Its rooms, in the order a lead goes through them (each ``__init__`` says what comes
in and what goes out):

- :mod:`relead.read`: the repository's files into the model, every problem located;
- :mod:`relead.derive`: the model and a day into numbers, priorities and the day's plan;
- :mod:`relead.intake`: CRM exports and quick capture into edits of the leads files;
- :mod:`relead.diff`: two revisions compared.

At the top: the model (:mod:`.model`, :mod:`.history`'s records), the fixed words
(:mod:`.vocab`) and every key (:mod:`.schema`); problems and where they are
(:mod:`.problems`, :mod:`.annotations`); the entry ``check`` and ``build`` share
(:mod:`.check`, with :mod:`.lint`) and the commands (:mod:`.cli`); and what every room
uses: :mod:`.jobs`, :mod:`.gcpause`, :mod:`.clock`, :mod:`.arguments`, :mod:`.links`,
:mod:`.names`, :mod:`.messages` (message copy's sandbox, for check and outreach).
"""

__version__ = "0.1.0"
