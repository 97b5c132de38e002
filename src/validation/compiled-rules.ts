import type { ClassConstructor } from 'class-transformer';
import type { ValidationArguments } from 'class-validator';
import { planOf, type Plan, type Property } from './validation-plan';

/** A value the compiled path is not sure of: the full path decides. */
const UNSURE = Symbol('unsure');

/**
 * The instance that `plainToInstance(cls, plain, { exposeDefaultValues: true })` builds and
 * `validateSync(…, { whitelist, forbidNonWhitelisted, forbidUnknownValues })` accepts, without
 * their generic machinery: or undefined, when the body has a problem or anything the compiled
 * path does not handle, and the full path must decide (and word the problems).
 *
 * The plan of a class is read once from class-validator's and class-transformer's registries,
 * the decorators staying the only statement of the rules. Each rule runs class-validator's own
 * constraint with the arguments class-validator gives it, so a value the compiled path accepts
 * is one class-validator accepts; a class with anything else (a rule type other than the
 * custom, nested, conditional and whitelist ones, an async constraint, @Expose, @Exclude,
 * @Transform, a discriminator, @ValidateNested without @Type) has no plan and always takes the
 * full path. The instance is built as class-transformer builds it: `new cls()` for the
 * property initialisers, then the body's keys in their order, nested values copied.
 */
export function compiledValidate<T extends object>(
  cls: ClassConstructor<T>,
  plain: unknown,
): T | undefined {
  if (!isPlainObject(plain)) return undefined;
  const plan = planOf(cls, undefined);
  if (!plan) return undefined;
  const value = build(plan, plain);
  return value === UNSURE ? undefined : (value as T);
}

function build(plan: Plan, plain: object): object | typeof UNSURE {
  const object = new plan.cls() as Record<string, unknown>;
  for (const key of Object.keys(plain)) {
    const property = plan.properties.get(key);
    if (!property) return UNSURE;
    const value = (plain as Record<string, unknown>)[key];
    // exposeDefaultValues: a missing value keeps the initialiser's.
    if (value === undefined) continue;
    const built = property.nested
      ? buildNested(property.nested, value, object, plain, key)
      : copyPlain(value);
    if (built === UNSURE) return UNSURE;
    object[key] = built;
  }
  return accepts(plan, object) ? object : UNSURE;
}

function buildNested(
  nested: NonNullable<Property['nested']>,
  value: unknown,
  newObject: object,
  object: object,
  property: string,
): unknown {
  const plan = planOf(nested.typeFunction({ newObject, object, property }), nested.schema);
  if (!plan) return UNSURE;
  if (isPlainObject(value)) return build(plan, value);
  if (!Array.isArray(value) || nested.reflectedType !== Array) return UNSURE;
  const built: unknown[] = [];
  for (const item of value as unknown[]) {
    if (!isPlainObject(item)) return UNSURE;
    const one = build(plan, item);
    if (one === UNSURE) return UNSURE;
    built.push(one);
  }
  return built;
}

/** A JSON value as class-transformer copies a value with no @Type; UNSURE where it would differ. */
function copyPlain(value: unknown): unknown {
  if (typeof value !== 'object') {
    return typeof value === 'function' || value === undefined ? UNSURE : value;
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return UNSURE;
    const copy: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = copyPlain(value[i]);
      if (item === UNSURE) return UNSURE;
      copy.push(item);
    }
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return UNSURE;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // `__proto__`, `constructor`, `toString`, …: class-transformer drops them.
    if (key in Object.prototype) return UNSURE;
    const item = copyPlain((value as Record<string, unknown>)[key]);
    if (item === UNSURE) return UNSURE;
    copy[key] = item;
  }
  return copy;
}

/** validateSync's verdict on one built object, its nested objects having passed as they were built. */
function accepts(plan: Plan, object: Record<string, unknown>): boolean {
  for (const key of Object.keys(object)) if (!plan.properties.has(key)) return false;
  for (const property of plan.properties.values()) {
    const value = object[property.name];
    let applies = true;
    for (const condition of property.conditions) applies = condition(object, value) && applies;
    if (!applies) continue;
    for (const rule of property.rules) {
      if (rule.validateIf && !rule.validateIf(object, value)) continue;
      for (const validator of rule.validators) {
        const args: ValidationArguments = {
          targetName: (object.constructor as { name: string }).name,
          property: rule.property,
          object,
          value,
          constraints: rule.constraints,
        };
        if (rule.each && Array.isArray(value)) {
          for (const item of value as unknown[]) {
            if (!passed(validator.validate(item, args))) return false;
          }
        } else if (!passed(validator.validate(value, args))) {
          return false;
        }
      }
    }
  }
  return true;
}

/** A constraint's answer; a promise (an async rule on the sync path) is left to the full path. */
function passed(result: unknown): boolean {
  if (typeof result === 'object' && result !== null && 'then' in result) return false;
  return Boolean(result);
}

function isPlainObject(value: unknown): value is object {
  return (
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
  );
}
