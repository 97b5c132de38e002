// Checks log lines against the Elastic Common Schema's field definitions, as published by Elastic
// in the @elastic/ecs package (EcsFlat: every ECS field, its type and allowed values).
import { isIP } from 'node:net';
import { EcsFlat, EcsVersion } from '@elastic/ecs';

interface FieldDefinition {
  type: string;
  normalize?: readonly string[];
  allowed_values?: readonly { name: string }[];
}

const FIELDS = EcsFlat as unknown as Record<string, FieldDefinition>;

/** ECS's own top-level names (its field sets and base fields): custom fields stay out of them. */
const ECS_NAMESPACES = new Set(Object.keys(FIELDS).map((name) => name.split('.')[0]));

/** The ECS version the definitions are from. */
export const ECS_SCHEMA_VERSION = EcsVersion;

const STRING_TYPES = new Set([
  'keyword',
  'constant_keyword',
  'wildcard',
  'text',
  'match_only_text',
  'version',
]);
const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const NUMBER_TYPES = new Set(['float', 'double', 'half_float', 'scaled_float']);
const OBJECT_TYPES = new Set(['object', 'flattened', 'nested']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why `value` cannot be the ECS field `name` of `definition`, or undefined when it can. */
function valueProblem(
  name: string,
  definition: FieldDefinition,
  value: unknown,
): string | undefined {
  const { type } = definition;
  const fits = STRING_TYPES.has(type)
    ? typeof value === 'string'
    : INTEGER_TYPES.has(type)
      ? Number.isInteger(value)
      : NUMBER_TYPES.has(type)
        ? typeof value === 'number'
        : type === 'date'
          ? (typeof value === 'string' && !Number.isNaN(Date.parse(value))) ||
            Number.isInteger(value)
          : type === 'ip'
            ? typeof value === 'string' && isIP(value) !== 0
            : type === 'boolean'
              ? typeof value === 'boolean'
              : OBJECT_TYPES.has(type)
                ? isPlainObject(value)
                : true;
  if (!fits) return `${name}: ${JSON.stringify(value)} is not a value of ECS type ${type}`;
  const allowed = definition.allowed_values?.map((v) => v.name);
  if (allowed && !allowed.includes(String(value))) {
    return `${name}: ${JSON.stringify(value)} is not one of ECS's allowed values (${allowed.join(', ')})`;
  }
  return undefined;
}

/**
 * What in `line` breaks ECS: a field of ECS's with a value of another type (or outside its
 * allowed values), an array where ECS expects one value, a field ECS does not define inside one
 * of ECS's own namespaces, and an `event.dataset` that is not its `data_stream.dataset`.
 * Fields outside ECS's namespaces are custom: their shape is their own. Dotted keys and nested
 * objects are read alike. Empty when the line fits.
 * @see https://www.elastic.co/guide/en/ecs/current/ecs-custom-fields-in-ecs.html
 */
export function ecsProblems(line: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const visit = (name: string, value: unknown): void => {
    if (value === null) return;
    const definition = FIELDS[name];
    if (definition) {
      const values = Array.isArray(value) ? value : [value];
      if (Array.isArray(value) && !definition.normalize?.includes('array')) {
        problems.push(`${name}: an array, where ECS expects one value`);
      }
      for (const one of values) {
        const problem = valueProblem(name, definition, one);
        if (problem) problems.push(problem);
      }
      return;
    }
    const namespace = name.split('.')[0];
    if (!ECS_NAMESPACES.has(namespace)) return;
    if (isPlainObject(value)) {
      for (const [key, inner] of Object.entries(value)) visit(`${name}.${key}`, inner);
      return;
    }
    problems.push(
      `${name}: not an ECS ${ECS_SCHEMA_VERSION} field, but in ECS's own namespace "${namespace}": move it to a custom one`,
    );
  };
  for (const [name, value] of Object.entries(line)) visit(name, value);
  const dataset = line['event.dataset'];
  if (dataset !== undefined && dataset !== line['data_stream.dataset']) {
    problems.push(
      `event.dataset ${JSON.stringify(dataset)} is not data_stream.dataset ${JSON.stringify(line['data_stream.dataset'])}`,
    );
  }
  return problems;
}
