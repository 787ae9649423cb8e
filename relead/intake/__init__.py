"""Intake: CRM exports and quick capture into edits of the leads files.

In: a CSV export's bytes (``make import``) or a few words about someone (``make add``),
with the repository's model. Out: new and changed leads, written into the leads
file's text without touching any other line (:mod:`.editing` is the one writer).

- :mod:`.importing`, :mod:`.crm_formats`: a CSV export read and mapped onto the team's funnel.
- :mod:`.dedupe`: which rows are leads we already have, which are each other, which are new.
- :mod:`.capture`: quick capture as a lead. :mod:`.ids`: ids for new leads.
- :mod:`.leads_text`: leads written in the file's style, one lead edited in place.
- :mod:`.editing`: the commands, the checks of what they write, the write itself.
"""
