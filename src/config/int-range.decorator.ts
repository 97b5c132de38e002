import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/**
 * An environment variable holding a whole number from `min` to `max` (`Infinity` for no
 * bound); `unit` (e.g. "milliseconds") and `example` (e.g. "PORT=3000") complete the one
 * message given for every way it can be wrong.
 */
export function IntRange(min: number, max: number, unit = '', example = ''): PropertyDecorator {
  const range = Number.isFinite(max) ? `from ${min} to ${max}` : `, at least ${min}`;
  const message = `must be a whole number${unit ? ` of ${unit}` : ''}${range.startsWith(',') ? range : ` ${range}`}${example ? `, e.g. ${example}` : ''}`;
  const decorators = [Type(() => Number), IsInt({ message }), Min(min, { message })];
  if (Number.isFinite(max)) decorators.push(Max(max, { message }));
  return applyDecorators(...decorators);
}
