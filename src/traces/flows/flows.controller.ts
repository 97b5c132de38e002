import { Controller, Get, HttpStatus, Inject, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AppConfig } from '../../config/app-config';
import { flowContext } from '../../context/flow-context';
import { ProblemView } from '../../problem/problem.dto';
import { ProblemException } from '../../problem/problem.exception';
import { logStoreProblem } from '../log-store-problem';
import { FlowListView } from './flow-list.dto';
import { FLOW_PARAMS, FlowParamError, flowFilterOf } from './flow-params';
import { type FlowList, FlowSearch } from './flow-search';

/**
 * `GET /api/v1/flows`: the flows worth looking at, most recent first (what failed in the last
 * hour, what was slow, what retried, of a task type or a service), as `threadline flows`
 * prints them (the same FlowSearch).
 * @see docs/flows.md
 */
@ApiTags('traces')
@Controller('api/v1/flows')
export class FlowsController {
  constructor(
    @Inject(FlowSearch) private readonly search: FlowSearch,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The flows of a time window',
    description:
      "Flows (by correlation_id) with lines in the window that pass the filters, the one whose last line is the most recent first: each with its times, services, tasks by status, retries and first error, and links to its trace. Paged by cursor. With API keys on, only the key's own flows.",
  })
  @ApiQuery({ name: 'since', required: false, description: FLOW_PARAMS.since })
  @ApiQuery({ name: 'until', required: false, description: FLOW_PARAMS.until })
  @ApiQuery({ name: 'status', required: false, enum: FLOW_PARAMS.status.split(', ') })
  @ApiQuery({ name: 'task_type', required: false })
  @ApiQuery({ name: 'queue', required: false })
  @ApiQuery({ name: 'service', required: false })
  @ApiQuery({ name: 'min_duration_ms', required: false, type: 'integer' })
  @ApiQuery({ name: 'limit', required: false, type: 'integer', description: FLOW_PARAMS.limit })
  @ApiQuery({ name: 'cursor', required: false, description: FLOW_PARAMS.cursor })
  @ApiQuery({
    name: 'histogram',
    required: false,
    type: 'boolean',
    description: FLOW_PARAMS.histogram,
  })
  @ApiOkResponse({ type: FlowListView })
  @ApiBadRequestResponse({
    type: ProblemView,
    description: 'A parameter is unknown, malformed or out of range; the problem names it.',
  })
  @ApiServiceUnavailableResponse({
    type: ProblemView,
    description: 'Elasticsearch did not answer.',
  })
  async list(@Query() query: Record<string, unknown>): Promise<FlowList> {
    let filter;
    try {
      filter = flowFilterOf(query, this.config.FLOW_SLOW_MS);
    } catch (error) {
      if (!(error instanceof FlowParamError)) throw error;
      throw new ProblemException(HttpStatus.BAD_REQUEST, {
        title: `Invalid ${error.param}`,
        detail: error.message,
      });
    }
    const { histogram, ...rest } = filter;
    // With API keys on, a key lists only its own flows (src/auth).
    const owner = flowContext.get()?.owner;
    try {
      return await this.search.list({ ...rest, ...(owner ? { owner } : {}) }, { histogram });
    } catch (error) {
      throw logStoreProblem(error);
    }
  }
}
