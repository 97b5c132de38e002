import { Controller, Get, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ID_RULE, idProblem } from '../context/ids';
import { flowContext } from '../context/flow-context';
import { ProblemView } from '../problem/problem.dto';
import { ProblemException } from '../problem/problem.exception';
import { isTimeBound, TIME_BOUND_RULE } from './time-bound';
import type { Trace } from './trace';
import { TraceSearch, TraceUnavailableError } from './trace-search';

/**
 * `GET /api/v1/traces/:id`: the flow of any ID, as `threadline trace --format json` prints it
 * (the same TraceSearch).
 * @see docs/trace.md
 */
@ApiTags('traces')
@Controller('api/v1/traces')
export class TracesController {
  constructor(@Inject(TraceSearch) private readonly search: TraceSearch) {}

  @Get(':id')
  @ApiOperation({
    summary: 'The flow of any ID',
    description:
      'Takes a request_id, correlation_id, task_id or trace.id; returns the IDs it leads to and how they relate, every log line of the flow in time order, and a summary.',
  })
  @ApiQuery({ name: 'since', required: false, description: 'ISO 8601 time or date math (now-1h).' })
  @ApiQuery({ name: 'until', required: false })
  @ApiQuery({ name: 'limit', required: false, description: 'At most this many lines.' })
  @ApiOkResponse({ description: 'The trace.' })
  @ApiBadRequestResponse({
    type: ProblemView,
    description: 'The ID, since, until or limit is malformed.',
  })
  @ApiNotFoundResponse({ type: ProblemView, description: 'No log line carries the ID.' })
  @ApiServiceUnavailableResponse({
    type: ProblemView,
    description: 'Elasticsearch did not answer.',
  })
  async trace(
    @Param('id') id: string,
    @Query('since') since?: string,
    @Query('until') until?: string,
    @Query('limit') limit?: string,
  ): Promise<Trace> {
    const problem = idProblem(id);
    if (problem) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, {
        title: 'Invalid ID',
        detail: `The ID cannot be traced: ${problem}. IDs are ${ID_RULE}.`,
      });
    }
    for (const [name, value] of [
      ['since', since],
      ['until', until],
    ] as const) {
      if (value !== undefined && !isTimeBound(value)) {
        throw new ProblemException(HttpStatus.BAD_REQUEST, {
          title: `Invalid ${name}`,
          detail: `${name} must be ${TIME_BOUND_RULE}, e.g. ?${name}=now-1h.`,
        });
      }
    }
    const lines = limit === undefined ? undefined : Number(limit);
    if (lines !== undefined && (!Number.isInteger(lines) || lines < 1)) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, {
        title: 'Invalid limit',
        detail: 'limit must be a whole number of lines, at least 1, e.g. ?limit=1000.',
      });
    }
    let trace: Trace | undefined;
    try {
      // With API keys on, a key traces only its own flows (src/auth).
      const owner = flowContext.get()?.owner;
      trace = await this.search.trace(id, { since, until, limit: lines, owner });
    } catch (error) {
      if (!(error instanceof TraceUnavailableError)) throw error;
      throw new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, {
        title: 'Log store unavailable',
        detail: `${error.message}. Retry later.`,
        headers: { 'Retry-After': '5' },
      });
    }
    if (!trace) {
      throw new ProblemException(HttpStatus.NOT_FOUND, {
        title: 'Nothing to trace',
        detail: `No log line carries ${id} as a request_id, correlation_id, task_id or trace.id. Lines are kept for LOG_RETENTION; a line written in the last seconds may not be searchable yet.`,
      });
    }
    return trace;
  }
}
