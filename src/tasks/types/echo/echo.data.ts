import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, IsIn, IsInt, IsOptional, Max, Min, ValidateNested } from 'class-validator';

export const ECHO_FAULTS = ['retryable', 'fatal', 'crash'] as const;
export type EchoFault = (typeof ECHO_FAULTS)[number];

/** A failure to inject, when TASK_FAULT_INJECTION is on (tests and demos only). */
export class EchoFailData {
  @ApiPropertyOptional({
    enum: ECHO_FAULTS,
    description:
      'retryable: throw an error that is retried; fatal: fail without retry; crash: kill the worker process.',
  })
  @IsIn(ECHO_FAULTS, { message: `must be one of ${ECHO_FAULTS.join(', ')}` })
  kind!: EchoFault;

  @ApiPropertyOptional({
    minimum: 1,
    description: 'Fail only the first N attempts. Default: every attempt.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  attempts?: number;
}

/** Input of `echo`: returns `message` after `delay_ms`. */
export class EchoData {
  @ApiPropertyOptional({
    description: 'Any JSON value, returned as the result.',
    example: { hello: 'world' },
  })
  @Allow()
  message?: unknown;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 600000,
    default: 0,
    description:
      'How long the task runs, reporting progress; at most TASK_ECHO_MAX_DELAY_MS (default 60000).',
  })
  @IsInt()
  @Min(0)
  @Max(600_000)
  delay_ms: number = 0;

  @ApiPropertyOptional({ type: EchoFailData })
  @IsOptional()
  @ValidateNested()
  @Type(() => EchoFailData)
  fail?: EchoFailData;
}
