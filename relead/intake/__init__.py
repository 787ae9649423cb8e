"""Intake: CRM exports and quick capture into edits of the leads files.

In: a CSV export's bytes (``make import``) or a few words about someone (``make add``),
with the repository's model. Out: new and changed leads, written into the leads
file's text without touching any other line (:mod:`.splice` is the one writer).

- :mod:`.csv_table`: a CSV export's bytes read into a table (and :class:`~.csv_table.ImportFailed`).
- :mod:`.values`: amounts, emails, phones and dates as the export and quick capture give them.
- :mod:`.importing`, :mod:`.crm_formats`: the table's rows mapped onto the team's funnel.
- :mod:`.dedupe`: which rows are leads we already have, which are each other, which are new.
- :mod:`.capture`: quick capture as a lead. :mod:`.ids`: ids for new leads.
- :mod:`.leads_text`: leads written in the file's style, one lead edited in place.
- :mod:`.splice`: incoming leads planned and spliced into the files' text, checked, written.
- :mod:`.editing`: the two commands (``import``, ``add``) and their command line.
"""
