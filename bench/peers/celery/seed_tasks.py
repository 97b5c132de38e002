"""The Celery side of the stack Threadline replaces, as the benchmarks run it.

Configured as that stack was: Redis broker and result backend, three priority queues
(high, medium, low), late acknowledgement so that a crashed worker's task is delivered
again, results kept 7 days. The one task is a no-op echo that also records when its body
started, so that the end-to-end benchmark can tell queue wait from run time.
"""

import os
import time

from celery import Celery
from kombu import Queue

BROKER = os.environ["CELERY_REDIS_URL"]

app = Celery("seed", broker=BROKER, backend=BROKER)
app.conf.update(
    task_queues=[Queue("high"), Queue("medium"), Queue("low")],
    task_default_queue="medium",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    result_expires=7 * 24 * 3600,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
)


@app.task(name="echo")
def echo(data):
    return {"echo": data, "started": time.time()}
