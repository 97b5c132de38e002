import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answer of `GET /api/v1/flows`, for the OpenAPI document (src/traces/flows/flow-search.ts). */
export class FlowListView {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'Each flow: correlation_id, first_at, last_at, duration_ms, status (failed, running, completed, none), slow, services, task_types, queues, tasks (total, running, completed, failed), retries, lines, first_error, links (trace, page).',
  })
  flows!: Record<string, unknown>[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as cursor, with the same filters, for the next page; null on the last.',
  })
  next_cursor!: string | null;

  @ApiProperty({
    description:
      'True when the window held more flows than a list reads (5,000): only its most recent were listed. Narrow until to reach older ones.',
  })
  truncated!: boolean;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'With histogram=true: bars of at, until, flows, failed over the window.',
  })
  histogram?: Record<string, unknown>[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What it cost Elasticsearch: took_ms and requests.',
  })
  search!: Record<string, unknown>;
}
