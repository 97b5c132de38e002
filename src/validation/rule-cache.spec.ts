import { getMetadataStorage, IsIn, IsInt, IsOptional, Max } from 'class-validator';
import { validatePlain } from './validate-plain';
import { cacheValidationRules } from './rule-cache';

class Order {
  @IsIn(['a', 'b'])
  kind!: string;

  @IsOptional()
  @IsInt()
  @Max(10)
  count?: number;
}

describe(cacheValidationRules.name, () => {
  // The registry class-validator walks for inherited rules (a private Map).
  const registry = (
    getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, unknown> }
  ).validationMetadatas;

  it("works out a class's rules once, not on every validation", () => {
    validatePlain(Order, { kind: 'a' }, '');
    const walks = jest.spyOn(registry, 'entries');
    for (let i = 0; i < 50; i++) {
      expect(validatePlain(Order, { kind: 'b', count: i % 10 }, '').problems).toEqual([]);
      expect(validatePlain(Order, { kind: 'c' }, '').problems).toHaveLength(1);
    }
    expect(walks).not.toHaveBeenCalled();
    walks.mockRestore();
  });

  it('sees a rule added after a validation, and a class defined after it', () => {
    expect(validatePlain(Order, { kind: 'a', note: 'x' }, '').problems).toEqual([
      { pointer: '/note', detail: 'is not a known field; remove it' },
    ]);
    IsInt()(Order.prototype, 'note');
    expect(validatePlain(Order, { kind: 'a', note: 'x' }, '').problems).toEqual([
      { pointer: '/note', detail: 'must be an integer number' },
    ]);

    class Later {
      @Max(1)
      level!: number;
    }
    expect(validatePlain(Later, { level: 2 }, '/data').problems).toEqual([
      { pointer: '/data/level', detail: 'must not be greater than 1' },
    ]);
  });
});
