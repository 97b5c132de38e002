import { type ClassConstructor, TransformationType } from 'class-transformer';
import { defaultMetadataStorage as transformRules } from 'class-transformer/cjs/storage';
import {
  getMetadataStorage,
  type MetadataStorage,
  ValidationTypes,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { cacheValidationRules, rulesGeneration } from './rule-cache';

// What a DTO class accepts, read once from class-validator's and class-transformer's
// registries (the decorators stay the only statement of the rules), for compiled-rules.ts to
// run; null for a class with anything that plan does not cover, which takes the full path.

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
type Condition = (object: object, value: unknown) => boolean;
type TypeFunction = (options: { newObject: object; object: object; property: string }) => unknown;

/** One rule of a property: class-validator's own constraint instances, run as it runs them. */
export interface Rule {
  property: string;
  constraints: unknown[];
  each: boolean;
  validateIf?: Condition;
  validators: ValidatorConstraintInterface[];
}

export interface Property {
  name: string;
  /** @IsOptional, @ValidateIf: when one is false, no rule of the property runs. */
  conditions: Condition[];
  rules: Rule[];
  /** @ValidateNested with @Type: the class the value becomes, and the schema it is checked under. */
  nested?: { typeFunction: TypeFunction; reflectedType: unknown; schema: string };
}

/** What one class (under one schema) accepts, worked out once from the decorators. */
export interface Plan {
  cls: new () => object;
  /** Every property with a rule: the whitelist. */
  properties: Map<string, Property>;
}

let plans = new Map<unknown, Map<string | undefined, Plan | null>>();
let generation = -1;
let transformGeneration = 0;
let watching = false;

/** The plan of `cls` under `schema`, compiled on first use and again after any rule is added. */
export function planOf(cls: unknown, schema: string | undefined): Plan | null {
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
