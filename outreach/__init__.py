"""outreach: plans the day, sends email (SMTP) and SMS (Twilio), hands out tasks, records, commits.

Built on :mod:`relead` (the model, the planner, history); never imports
``site_builder``. The Python API, which ``python -m outreach`` wraps:

* :func:`outreach.queue.build_queue` / :func:`~outreach.queue.write_queue` /
  :func:`~outreach.queue.read_queue`: the day's reviewable queue;
* :func:`outreach.run.send_queue`: send it through injected transports
  (:mod:`outreach.transports`), recording every outcome in ``history/``;
* :func:`outreach.record.record_response`: a person's word on a lead;
* :mod:`outreach.gitops`: commit and push the outcomes.

docs/outreach.md is the user's guide.
"""

from .config import Config, config_from_env
from .errors import (ConfigError, DeliveryError, DeliveryUnknown, GitError, OutreachError,
                     PermanentDeliveryError, QueueError, RecipientRejected, RenderError, ReviewRequired,
                     RunPaused, TemporaryDeliveryError, UnsafeHeader)
from .outcome import Outcome, RunResult
from .queue import Queue, QueuedTouch, build_queue, queue_path, read_queue, write_queue
from .record import record_response
from .run import send_queue, send_queue_async

__all__ = [
    "Config", "config_from_env", "Queue", "QueuedTouch", "build_queue", "queue_path", "read_queue",
    "write_queue", "record_response", "Outcome", "RunResult", "send_queue", "send_queue_async",
    "OutreachError", "ConfigError", "QueueError", "ReviewRequired", "RenderError", "UnsafeHeader",
    "GitError", "RunPaused", "DeliveryError", "TemporaryDeliveryError", "PermanentDeliveryError",
    "RecipientRejected", "DeliveryUnknown",
]
