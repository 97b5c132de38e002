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
import { AppConfig } from '../config/app-config';
import { ID_RULE, idProblem } from '../context/ids';
import { flowContext } from '../context/flow-context';
import { ProblemView } from '../problem/problem.dto';
import { ProblemException } from '../problem/problem.exception';
import { isTimeBound, TIME_BOUND_RULE } from './time-bound';
import { TraceView } from './dto/trace-view.dto';
import type { Trace } from './trace';
import { logStoreProblem } from './log-store-problem';
import { TraceSearch } from './trace-search';

/**
 * `GET /api/v1/traces/:id`: the flow of any ID, as `threadline trace --format json` prints it
 * (the same TraceSearch).
 * @see docs/trace.md
 */
@ApiTags('traces')
@Controller('api/v1/traces')
export class TracesController {
  constructor(
    @Inject(TraceSearch) private readonly search: TraceSearch,
    private readonly config: AppConfig,
  ) {}

  @Get(':id')
  @ApiOperation({
    summary: 'The flow of any ID',
    description:
      'Takes a request_id, correlation_id, task_id or trace.id; returns the IDs it leads to and how they relate, the log lines of the flow in time order (the first `limit` of them), and a summary. `truncated` says whether the flow has more lines.',
  })
  @ApiQuery({ name: 'since', required: false, description: 'ISO 8601 time or date math (now-1h).' })
  @ApiQuery({ name: 'until', required: false })
  @ApiQuery({
    name: 'limit',
    required: false,
    type: 'integer',
    description:
      'At most this many lines, the first ones in time order. Default: TRACE_DEFAULT_LIMIT (1000); at most TRACE_MAX_LIMIT (10000), above it 400.',
  })
  @ApiOkResponse({ type: TraceView, description: 'The trace; `truncated` when it was cut.' })
  @ApiBadRequestResponse({
    type: ProblemView,
    description: 'The ID, since, until or limit is malformed, or limit is above TRACE_MAX_LIMIT.',
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
    const lines = this.limit(limit);
    let trace: Trace | undefined;
    try {
      // With API keys on, a key traces only its own flows (src/auth).
      const owner = flowContext.get()?.owner;
      trace = await this.search.trace(id, { since, until, limit: lines, owner });
    } catch (error) {
      throw logStoreProblem(error);
    }
    if (!trace) {
      throw new ProblemException(HttpStatus.NOT_FOUND, {
        title: 'Nothing to trace',
        detail: `No log line carries ${id} as a request_id, correlation_id, task_id or trace.id. Lines are kept for LOG_RETENTION; a line written in the last seconds may not be searchable yet.`,
      });
    }
    return trace;
  }

  /** The `limit` asked for: TRACE_DEFAULT_LIMIT when none, a 400 when malformed or too large. */
  private limit(value: unknown): number {
    const { TRACE_DEFAULT_LIMIT: fallback, TRACE_MAX_LIMIT: max } = this.config;
    if (value === undefined) return fallback;
    const lines = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
    if (!(lines >= 1)) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, {
        title: 'Invalid limit',
        detail: `limit must be a whole number of lines from 1 to ${max}, e.g. ?limit=${fallback}.`,
      });
    }
    if (lines > max) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, {
        title: 'Limit too large',
        detail: `limit may be at most ${max} lines (TRACE_MAX_LIMIT), not ${lines}. Ask for ?limit=${max} or fewer, and narrow the flow with ?since= and ?until= to see the rest of it.`,
        extensions: { max_limit: max },
      });
    }
    return lines;
  }
}
