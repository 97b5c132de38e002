import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ProblemView } from '../problem/problem.dto';
import { ProblemException } from '../problem/problem.exception';
import { SubmitTaskDto } from './dto/submit-task.dto';
import { TaskAcceptedView, TaskView } from './dto/task-view.dto';
import { TasksService } from './tasks.service';
import { TASK_TYPE_LIST } from './types';

const UNAVAILABLE =
  'Redis is unavailable; the request may not have been applied. Retry after the Retry-After delay, with an Idempotency-Key to be safe.';

/**
 * Submit, poll and cancel tasks.
 * @see docs/api.md
 */
@ApiTags('tasks')
@ApiExtraModels(...TASK_TYPE_LIST.map((type) => type.data))
@Controller('api/v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @ApiOperation({
    summary: 'Submit a task',
    description: 'Queues a task; answers 202 with its id and a Location to poll.',
  })
  @ApiBody({ type: SubmitTaskDto })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Makes retries safe: the same key and body give the same task and response for 24 hours. 1–255 visible ASCII characters.',
  })
  @ApiAcceptedResponse({
    type: TaskAcceptedView,
    description: 'Queued. `Idempotent-Replayed: true` marks a replayed response.',
  })
  @ApiBadRequestResponse({
    type: ProblemView,
    description:
      'Malformed body, unknown or server-owned fields, unknown task type, bad Idempotency-Key.',
  })
  @ApiConflictResponse({
    type: ProblemView,
    description: 'A request with the same Idempotency-Key is still in progress.',
  })
  @ApiForbiddenResponse({
    type: ProblemView,
    description: 'Queue `high` with an API key not granted it (API_KEYS `name:key:high`).',
  })
  @ApiPayloadTooLargeResponse({ type: ProblemView, description: 'Body larger than BODY_LIMIT.' })
  @ApiUnsupportedMediaTypeResponse({
    type: ProblemView,
    description: 'Body is not application/json.',
  })
  @ApiUnprocessableEntityResponse({
    type: ProblemView,
    description:
      "The task's data cannot be run, or the Idempotency-Key was used with another body.",
  })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: UNAVAILABLE })
  async submit(
    @Req() request: Request,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    if (!request.is('application/json')) {
      throw new ProblemException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, {
        title: 'Unsupported Media Type',
        detail: 'Send the task as a JSON body with Content-Type: application/json.',
      });
    }
    // The body arrives as text (see configureApp): it is parsed where it is checked.
    const outcome = await this.tasks.submit(typeof body === 'string' ? body : '', idempotencyKey);
    response.status(outcome.status).location(outcome.location).type('application/json');
    if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
    response.send(outcome.body);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Poll a task',
    description: 'Status, progress, attempts, result or error, and timestamps.',
  })
  @ApiOkResponse({ type: TaskView })
  @ApiBadRequestResponse({ type: ProblemView, description: 'The id is not a UUID.' })
  @ApiNotFoundResponse({
    type: ProblemView,
    description: 'No such task, or its result has expired.',
  })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: UNAVAILABLE })
  get(@Param('id') id: string): Promise<TaskView> {
    return this.tasks.get(id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Cancel a queued task',
    description: 'Only a task that has not started can be cancelled.',
  })
  @ApiOkResponse({
    type: TaskView,
    description: 'Cancelled; polling it now answers status `cancelled`.',
  })
  @ApiBadRequestResponse({ type: ProblemView, description: 'The id is not a UUID.' })
  @ApiNotFoundResponse({ type: ProblemView })
  @ApiConflictResponse({ type: ProblemView, description: 'The task is running or has finished.' })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: UNAVAILABLE })
  cancel(@Param('id') id: string): Promise<TaskView> {
    return this.tasks.cancel(id);
  }
}
