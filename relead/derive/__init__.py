"""Deriving: the model and a day into the numbers, the priorities and the day's plan.

In: a :class:`relead.model.Model` and a date. Out: :class:`.derived.Derived` (each
lead's state, the funnel, losses, priorities, hygiene, and on demand the campaign
statistics and the periods), and :func:`.plan.plan_day` for outreach.
Pure: nothing here reads a file, the network or the clock.

- :mod:`.derived`: everything the dashboard and the checks read, derived once.
- :mod:`.state`, :mod:`.enrolment`: each lead's state and enrolments, from its history.
- :mod:`.funnel`, :mod:`.periods`, :mod:`.summary`: where leads were lost, what each period
  brought, and summary.json.
- :mod:`.priorities`: whom to contact first, and why.
- :mod:`.hygiene`: every lead accounted for, duplicates, what needs a person.
- :mod:`.campaign_stats`, :mod:`.audience`: what each campaign, channel and hook brought; who is in
  which audience.
- :mod:`.plan`: the day's touches. :mod:`.digest_numbers`: the Monday digest's numbers.
"""
