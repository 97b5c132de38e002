import { type ClassConstructor, TransformationType } from 'class-transformer';
import { defaultMetadataStorage as transformRules } from 'class-transformer/cjs/storage';
import {
  getMetadataStorage,
  type MetadataStorage,
  type ValidationArguments,
  ValidationTypes,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { cacheValidationRules, rulesGeneration } from './rule-cache';

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
type Condition = (object: object, value: unknown) => boolean;
type TypeFunction = (options: { newObject: object; object: object; property: string }) => unknown;

/** One rule of a property: class-validator's own constraint instances, run as it runs them. */
interface Rule {
  property: string;
  constraints: unknown[];
  each: boolean;
  validateIf?: Condition;
  validators: ValidatorConstraintInterface[];
}

interface Property {
  name: string;
  /** @IsOptional, @ValidateIf: when one is false, no rule of the property runs. */
  conditions: Condition[];
  rules: Rule[];
  /** @ValidateNested with @Type: the class the value becomes, and the schema it is checked under. */
  nested?: { typeFunction: TypeFunction; reflectedType: unknown; schema: string };
}

/** What one class (under one schema) accepts, worked out once from the decorators. */
interface Plan {
  cls: new () => object;
  /** Every property with a rule: the whitelist. */
  properties: Map<string, Property>;
}

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

let plans = new Map<unknown, Map<string | undefined, Plan | null>>();
let generation = -1;
let transformGeneration = 0;
let watching = false;

function planOf(cls: unknown, schema: string | undefined): Plan | null {
  if (!watching) watchTransformRules();
  const current = rulesGeneration() + transformGeneration;
  if (current !== generation) {
    plans = new Map();
    generation = current;
  }
  let bySchema = plans.get(cls);
  if (!bySchema) plans.set(cls, (bySchema = new Map<string | undefined, Plan | null>()));
  let plan = bySchema.get(schema);
  if (plan === undefined) bySchema.set(schema, (plan = compile(cls, schema)));
  return plan;
}

/** A plan is read from the registries as they are: any @Type, @Expose, … added later empties them. */
function watchTransformRules(): void {
  watching = true;
  cacheValidationRules();
  for (const method of [
    'addTypeMetadata',
    'addTransformMetadata',
    'addExposeMetadata',
    'addExcludeMetadata',
  ] as const) {
    const add: (metadata: never) => void = transformRules[method].bind(transformRules);
    transformRules[method] = (metadata: never): void => {
      transformGeneration++;
      add(metadata);
    };
  }
}

function compile(cls: unknown, schema: string | undefined): Plan | null {
  if (typeof cls !== 'function' || isBuiltIn(cls)) return null;
  const storage = getMetadataStorage();
  // The arguments class-validator's validateSync passes (no groups, `always` off).
  const rules = storage.getTargetValidationMetadatas(cls, schema as string, false, false);
  if (rules.length === 0) return null;
  if (
    transformRules.getStrategy(cls) !== 'none' ||
    transformRules.getExposedMetadatas(cls).length > 0 ||
    transformRules.getExcludedMetadatas(cls).length > 0
  ) {
    return null;
  }
  const construct = cls as new () => object;
  const grouped = storage.groupByPropertyName(rules);
  const probe = new construct();
  if (Object.keys(probe).some((key) => !Object.hasOwn(grouped, key))) return null;
  const prototype = Object.getPrototypeOf(probe) as object;
  const properties = new Map<string, Property>();
  for (const [name, metadatas] of Object.entries(grouped)) {
    // class-transformer skips a key its prototype chain holds (a method, a getter, `constructor`).
    if (name in prototype) return null;
    if (
      transformRules.findTransformMetadatas(cls, name, TransformationType.PLAIN_TO_CLASS).length
    ) {
      return null;
    }
    const property = compileProperty(cls, name, metadatas, storage);
    if (!property) return null;
    properties.set(name, property);
  }
  return { cls: construct, properties };
}

function compileProperty(
  cls: object,
  name: string,
  metadatas: ValidationMetadata[],
  storage: MetadataStorage,
): Property | null {
  const property: Property = { name, conditions: [], rules: [] };
  const nested: ValidationMetadata[] = [];
  for (const metadata of metadatas) {
    switch (metadata.type) {
      case ValidationTypes.WHITELIST:
        break;
      case ValidationTypes.CONDITIONAL_VALIDATION: {
        const condition: unknown = metadata.constraints?.[0];
        if (typeof condition !== 'function') return null;
        property.conditions.push(condition as Condition);
        break;
      }
      case ValidationTypes.NESTED_VALIDATION:
        nested.push(metadata);
        break;
      case ValidationTypes.CUSTOM_VALIDATION:
      case ValidationTypes.IS_DEFINED: {
        const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls);
        if (constraints.some((constraint) => constraint.async)) return null;
        property.rules.push({
          property: metadata.propertyName,
          constraints: metadata.constraints as unknown[],
          each: metadata.each === true,
          ...(metadata.validateIf ? { validateIf: metadata.validateIf } : {}),
          validators: constraints.map(
            (constraint): ValidatorConstraintInterface => constraint.instance,
          ),
        });
        break;
      }
      default:
        return null;
    }
  }
  const type = transformRules.findTypeMetadata(cls as ClassConstructor<object>, name);
  if (nested.length === 0) return type ? null : property;
  const target: unknown = nested[0].target;
  if (
    nested.length > 1 ||
    !type?.typeFunction ||
    type.options?.discriminator ||
    type.reflectedType === Map ||
    typeof target !== 'function'
  ) {
    return null;
  }
  property.nested = {
    typeFunction: type.typeFunction,
    reflectedType: type.reflectedType,
    schema: target.name,
  };
  return property;
}

/** Classes class-transformer converts by their own rules (String, Date, Map, …), never by a plan. */
function isBuiltIn(cls: object): boolean {
  return (
    cls === Object ||
    cls === Array ||
    cls === String ||
    cls === Number ||
    cls === Boolean ||
    cls === Date ||
    cls === Buffer ||
    cls === Map ||
    cls === Set ||
    cls === Promise
  );
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
