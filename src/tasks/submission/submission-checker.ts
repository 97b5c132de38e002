import { HttpStatus, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ProblemException } from '../../problem/problem.exception';
import { ThreadPool, ThreadTimeoutError } from '../../threads/thread-pool';
import { TaskRegistry } from '../task-registry';
import {
  type CheckedSubmission,
  checkSubmission,
  type SubmissionInput,
  type SubmissionVerdict,
} from './submission-check';

/**
 * Largest body checked on the API's event loop, in bytes: below it a check takes well under a
 * millisecond or two, less than handing it to a thread; above it, it goes to a thread.
 */
export const INLINE_CHECK_BYTES = 16 * 1024;

/** Longest one check may take on its thread before the submission is refused, in ms. */
export const CHECK_TIMEOUT_MS = 10_000;

/** Checks waiting for a thread, per thread, before a large submission is answered 503. */
const QUEUED_PER_THREAD = 16;

/** Seconds a client told the API is busy should wait before trying again. */
const BUSY_RETRY_AFTER_S = 1;

/**
 * Runs {@link checkSubmission} where it cannot stall the API: a small body on the event loop,
 * a large one (up to BODY_LIMIT, a million numbers to validate) on a small pool of threads, so
 * that `/health`, polls and other clients' requests go on meanwhile. The threads start with the
 * first large submission, not at boot, and leave once idle: each holds its own V8 heap and a
 * registry, about 40 MB, which an API that only sees small bodies never needs.
 * @see docs/security.md#heavy-work-off-the-event-loop
 */
@Injectable()
export class SubmissionChecker implements OnModuleDestroy {
  private readonly threads = Math.max(1, Math.min(4, availableParallelism() - 1));
  private readonly pool = new ThreadPool({
    filename: join(__dirname, 'submission.thread.js'),
    size: this.threads,
    timeoutMs: CHECK_TIMEOUT_MS,
    timeoutSetting: 'CHECK_TIMEOUT_MS',
    // A check may take a core for seconds; the event loop answering /health and polls comes first.
    niceness: 10,
  });

  constructor(private readonly registry: TaskRegistry) {}

  async onModuleDestroy(): Promise<void> {
    await this.pool.close();
  }

  /**
   * @returns the submission, checked
   * @throws ProblemException with the 4xx the check gave, or 503 while the threads are full
   */
  async check(input: SubmissionInput): Promise<CheckedSubmission> {
    const verdict =
      input.body.length <= INLINE_CHECK_BYTES
        ? checkSubmission(this.registry, input)
        : await this.onThread(input);
    if (!verdict.ok) throw new ProblemException(verdict.status, verdict.problem);
    return verdict;
  }

  private async onThread(input: SubmissionInput): Promise<SubmissionVerdict> {
    if (this.pool.queued >= QUEUED_PER_THREAD * this.threads) {
      throw new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, {
        title: 'Busy',
        detail: `The API is checking ${this.pool.queued} other large submissions; retry in ${BUSY_RETRY_AFTER_S} s, or send smaller ones (under ${INLINE_CHECK_BYTES} bytes they are checked at once).`,
        headers: { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
      });
    }
    try {
      return await this.pool.run<SubmissionVerdict>(input);
    } catch (error) {
      if (!(error instanceof ThreadTimeoutError)) throw error;
      throw new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, {
        title: 'Submission too heavy to check',
        detail: `Checking this submission took more than ${CHECK_TIMEOUT_MS / 1000} s; send a smaller one, e.g. split a batch.`,
      });
    }
  }
}
