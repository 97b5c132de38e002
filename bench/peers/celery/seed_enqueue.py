"""Queues N echo tasks on the medium queue before a drain run starts the Celery worker."""

import sys

from seed_tasks import app, echo

count = int(sys.argv[1])
with app.producer_or_acquire() as producer:
    for _ in range(count):
        echo.apply_async(args=[{}], queue="medium", producer=producer)
print(f"queued {count}")
