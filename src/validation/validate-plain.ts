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
  const inherited = inheritedKeyProblems(plain, basePointer, []);
  if (inherited.length > 0) return { value: undefined, problems: inherited };
  const value = plainToInstance(cls, plain, { exposeDefaultValues: true });
  const errors = validateSync(value, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length === 0) return { value, problems: [] };
  return { value: undefined, problems: flatten(errors, basePointer) };
}

const UNKNOWN_FIELD = 'is not a known field; remove it';
const INHERITED_KEY =
  'is a key every JavaScript object inherits (as constructor, __proto__ or toString), which the API cannot accept anywhere in a body; rename it';

/**
 * Where `value` (parsed JSON, its depth already bounded) has a key that every JavaScript object
 * inherits (`constructor`, `__proto__`, `toString`, …), at any depth, free-form values (echo's
 * `message`) included. class-transformer looks such a key up on the class rather than the
 * body: it throws on some (`constructor` holding a number), which would answer a client's
 * mistake with a 500, and silently drops the others, which would change the data. No DTO has a
 * field of such a name.
 */
function inheritedKeyProblems(
  value: unknown,
  pointer: string,
  into: FieldProblem[],
): FieldProblem[] {
  if (Array.isArray(value)) {
    value.forEach((item: unknown, i) => {
      if (typeof item === 'object' && item !== null)
        inheritedKeyProblems(item, `${pointer}/${i}`, into);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const at = `${pointer}/${escapePointer(key)}`;
      if (key in Object.prototype) into.push({ pointer: at, detail: INHERITED_KEY });
      else inheritedKeyProblems(child, at, into);
    }
  }
  return into;
}

function flatten(errors: readonly ValidationError[], base: string): FieldProblem[] {
  return errors.flatMap((error) => {
    const pointer = `${base}/${escapePointer(error.property)}`;
    const own = Object.entries(error.constraints ?? {}).map(([name, message]) => ({
      pointer,
      detail:
        name === 'whitelistValidation' ? UNKNOWN_FIELD : stripProperty(message, error.property),
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
