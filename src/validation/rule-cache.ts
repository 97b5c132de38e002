import { getMetadataStorage, type MetadataStorage } from 'class-validator';

type RuleLookup = MetadataStorage['getTargetValidationMetadatas'];
type ValidationMetadata = ReturnType<RuleLookup>[number];

let installed = false;
let generation = 0;

/** Counts the changes to the rules since start: a cache of anything read from them compares it. */
export function rulesGeneration(): number {
  return generation;
}

/**
 * Keeps class-validator's answer to "which rules does this class have" instead of working it
 * out on every validation. class-validator filters its global registry on each call, and walks
 * every registered class for inherited rules (the configuration's classes included): under the
 * submit load that, with the grouping by property, was about a fifth of the time validation
 * took. Rules change only while classes are being defined: any rule added empties the cache.
 * The answers are the same arrays, which class-validator only reads.
 */
export function cacheValidationRules(storage: MetadataStorage = getMetadataStorage()): void {
  if (installed) return;
  installed = true;
  const lookup: RuleLookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  let answers = new Map<string, Map<unknown, ValidationMetadata[]>>();
  let groups = new WeakMap<ValidationMetadata[], Record<string, ValidationMetadata[]>>();
  const forget = (): void => {
    generation++;
    answers = new Map();
    groups = new WeakMap();
  };
  const addRule = storage.addValidationMetadata.bind(storage);
  storage.addValidationMetadata = (metadata) => {
    forget();
    addRule(metadata);
  };
  const addConstraint = storage.addConstraintMetadata.bind(storage);
  storage.addConstraintMetadata = (metadata) => {
    forget();
    addConstraint(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, wanted) => {
    const query = `${schema}\u0000${always}\u0000${strictGroups}\u0000${wanted?.join('\u0000') ?? ''}`;
    let byTarget = answers.get(query);
    if (!byTarget) answers.set(query, (byTarget = new Map<unknown, ValidationMetadata[]>()));
    let rules = byTarget.get(target);
    if (!rules)
      byTarget.set(target, (rules = lookup(target, schema, always, strictGroups, wanted)));
    return rules;
  };
  storage.groupByPropertyName = (metadata) => {
    let grouped = groups.get(metadata);
    if (!grouped) groups.set(metadata, (grouped = group(metadata)));
    return grouped;
  };
}
