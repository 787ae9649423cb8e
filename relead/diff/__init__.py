"""Comparing: what a change does to the funnel, two revisions side by side.

In: two git revisions of the repository (``python -m relead diff BASE HEAD``).
Out: the difference in leads, losses, priorities and warnings, as text for a
pull request. :mod:`.revisions` reads the revisions from git (read only);
:mod:`.compare` compares their derived data (pure).
"""
