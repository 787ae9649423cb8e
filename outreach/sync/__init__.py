"""``make sync``: what came back (replies, bounces, out-of-office, unsubscribes, SMS STOPs)
recorded in ``history/``, so sequences stop or pause by themselves.

In: the model (leads, history: our touches and what was recorded before), the mailbox
(IMAP, read only) and Twilio's inbound texts, as configured in the environment. Out:
records appended to ``history/YYYY/MM/<day>.sync.tsv`` and a :class:`SyncResult` (what
was recorded, what matched nobody, what could not be read). The planner and the send-time
checks read those records like any other (:mod:`relead.derive.state`).

* :mod:`.mail`: what one email is (bounce, complaint, unsubscribe, automatic reply, reply);
* :mod:`.match`: which touch it answers (ids, tokens, addresses; never a guess);
* :mod:`.imap`, :mod:`.sms`: reading the mailbox and the texts;
* :mod:`.run`: one sync, end to end.
"""

from .run import SyncResult, last_synced, sync

__all__ = ["SyncResult", "sync", "last_synced"]
