import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { compiledValidate } from './compiled-rules';
import { cacheValidationRules } from './rule-cache';

cacheValidationRules();

/** A validation failure located by a JSON pointer (RFC 6901) into the request body. */
export interface FieldProblem {
  pointer: string;
  detail: string;
}

export type Validated<T> =
  { value: T; problems: [] } | { value: undefined; problems: FieldProblem[] };

/**
 * Turns `plain` into an instance of `cls` and validates it: unknown properties are rejected,
 * defaults from property initialisers apply. Problems are located under `basePointer`.
 * A valid body usually takes the compiled path (compiledValidate); a body with a problem, or
 * one it is unsure of, takes class-transformer and class-validator themselves.
 */
export function validatePlain<T extends object>(
  cls: ClassConstructor<T>,
  plain: unknown,
  basePointer: string,
): Validated<T> {
  const value = compiledValidate(cls, plain);
  return value ? { value, problems: [] } : validateFully(cls, plain, basePointer);
}

/** {@link validatePlain} by class-transformer and class-validator alone: the contract. */
export function validateFully<T extends object>(
  cls: ClassConstructor<T>,
  plain: unknown,
  basePointer: string,
): Validated<T> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return {
      value: undefined,
      problems: [{ pointer: basePointer || '/', detail: 'must be a JSON object' }],
    };
  }
  const value = plainToInstance(cls, plain, { exposeDefaultValues: true });
  const errors = validateSync(value, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length === 0) return { value, problems: [] };
  return { value: undefined, problems: flatten(errors, basePointer) };
}

function flatten(errors: readonly ValidationError[], base: string): FieldProblem[] {
  return errors.flatMap((error) => {
    const pointer = `${base}/${escapePointer(error.property)}`;
    const own = Object.entries(error.constraints ?? {}).map(([name, message]) => ({
      pointer,
      detail:
        name === 'whitelistValidation'
          ? 'is not a known field; remove it'
          : stripProperty(message, error.property),
    }));
    return [...own, ...flatten(error.children ?? [], pointer)];
  });
}

/** class-validator starts its messages with the property name; the pointer already says it. */
function stripProperty(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
