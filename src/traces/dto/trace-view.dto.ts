import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TRACE_ID_FIELDS, type TraceIdField } from '../trace';

const objects = (description: string) =>
  ({ type: 'array', items: { type: 'object', additionalProperties: true }, description }) as const;

/** The answer of `GET /api/v1/traces/:id`, for the OpenAPI document (src/traces/trace.ts). */
export class TraceView {
  @ApiProperty({ description: 'The ID asked for.' })
  id!: string;

  @ApiProperty({ enum: TRACE_ID_FIELDS, isArray: true, description: 'Which fields held it.' })
  matched!: TraceIdField[];

  @ApiProperty({ type: [String], description: 'The flows it leads to.' })
  correlation_ids!: string[];

  @ApiProperty(objects('Each request: method, path, status, nginx and API times, its tasks.'))
  requests!: Record<string, unknown>[];

  @ApiProperty(objects('Each task: type, queue, parent, children, attempts, status.'))
  tasks!: Record<string, unknown>[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'first_at, last_at, total_ms, lines, services, retries, status.',
  })
  summary!: Record<string, unknown>;

  @ApiProperty(objects("The flow's log lines in time order: the first `limit` of them."))
  lines!: Record<string, unknown>[];

  @ApiProperty({
    description:
      'True when the flow has more lines than `lines` holds: they are its first ones in time order. Narrow with since and until, or raise limit up to TRACE_MAX_LIMIT.',
  })
  truncated!: boolean;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'What reading it cost Elasticsearch: took_ms and requests.',
  })
  search?: Record<string, unknown>;
}
