import { HttpStatus } from '@nestjs/common';
import type { StoredResponse } from '../idempotency/idempotency.repository';
import { taskLink, taskLinks } from './dto/task-view.dto';
import type { TaskSnapshot } from './task';

/** The answer to a submission: fresh, or replayed for an Idempotency-Key seen before. */
export interface SubmitOutcome {
  status: number;
  body: string;
  location: string;
  replayed: boolean;
}

/** The 202 for a task: what the client needs to poll it. */
export function accepted(
  task: Pick<TaskSnapshot, 'id' | 'type' | 'queue' | 'priority' | 'status' | 'created_at'>,
  kibanaUrl: string,
  replayed: boolean,
): SubmitOutcome {
  const { id, type, queue, priority, status, created_at } = task;
  const body = JSON.stringify({
    task_id: id,
    type,
    queue,
    priority,
    status,
    created_at,
    links: taskLinks(id, kibanaUrl),
  });
  return { status: HttpStatus.ACCEPTED, body, location: taskLink(id), replayed };
}

/** The response first given for an Idempotency-Key, given again. */
export function replayed(response: StoredResponse): SubmitOutcome {
  return {
    status: response.status,
    body: response.body,
    location: response.location ?? '',
    replayed: true,
  };
}

/** What an idempotency record keeps of an outcome. */
export function stored(outcome: SubmitOutcome): StoredResponse {
  return { status: outcome.status, body: outcome.body, location: outcome.location };
}
