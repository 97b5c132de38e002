import { Exclude, Transform, Type } from 'class-transformer';
import {
  Allow,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  registerDecorator,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { compiledValidate } from './compiled-rules';
import { validateFully, validatePlain } from './validate-plain';

/** What a call gave, or the error it threw (class-transformer throws on a few bodies). */
function outcome<T>(call: () => T): T | { threw: string } {
  try {
    return call();
  } catch (error) {
    return { threw: String(error) };
  }
}

class Envelope {
  @IsIn(['echo'])
  type!: string;

  @Allow()
  data?: unknown;
}

describe(compiledValidate.name, () => {
  it('leaves a body with a key class-transformer drops to the full path', () => {
    for (const key of ['constructor', 'toString', '__proto__']) {
      const body = JSON.parse(`{"type":"echo","data":{"message":{"${key}":1}}}`) as unknown;
      expect(compiledValidate(Envelope, body)).toBeUndefined();
      expect(outcome(() => validatePlain(Envelope, body, ''))).toStrictEqual(
        outcome(() => validateFully(Envelope, body, '')),
      );
    }
  });

  describe('a class with what it does not handle takes the full path', () => {
    class Child {
      @IsInt()
      n!: number;
    }
    class WithTransform {
      @IsString()
      @Transform(({ value }: { value: unknown }) => String(value))
      name!: string;
    }
    class WithExclude {
      @IsString()
      @Exclude()
      name!: string;
    }
    class WithoutType {
      @ValidateNested()
      child!: Child;
    }
    class TypeWithoutNested {
      @Type(() => Child)
      @Allow()
      child!: Child;
    }
    class Empty {
      name?: string;
    }
    class Undecorated {
      @IsInt()
      n = 1;
      note = 'x';
    }
    const cases: [string, new () => object, unknown][] = [
      ['@Transform', WithTransform, { name: 'a' }],
      ['@Exclude', WithExclude, { name: 'a' }],
      ['@ValidateNested without @Type', WithoutType, { child: { n: 1 } }],
      ['@Type without @ValidateNested', TypeWithoutNested, { child: { n: 1 } }],
      ['no rules (forbidUnknownValues)', Empty, {}],
      ['an initialised field without rules', Undecorated, {}],
    ];
    it.each(cases)('%s', (_, cls, body) => {
      expect(compiledValidate(cls, body)).toBeUndefined();
      expect(outcome(() => validatePlain(cls, body, ''))).toStrictEqual(
        outcome(() => validateFully(cls, body, '')),
      );
    });
  });

  describe('runs the rules class-validator runs', () => {
    let calls = 0;
    class Conditional {
      @IsOptional()
      @IsInt()
      n?: number;

      @ValidateIf((o: Conditional) => o.n === 1)
      @IsDefined()
      @Max(5, { each: true })
      when?: number[];

      @IsOptional()
      @Max(3, { each: true })
      single?: number;
    }
    class Counted {
      @Allow()
      @((target: object, propertyName: string | symbol) =>
        registerDecorator({
          name: 'counted',
          target: target.constructor,
          propertyName: String(propertyName),
          validator: { validate: (value: unknown) => (calls++, value !== 'no') },
        }))
      v?: unknown;
    }
    const cases: [new () => object, unknown][] = [
      [Conditional, {}],
      [Conditional, { n: 2 }],
      [Conditional, { n: 1 }],
      [Conditional, { n: 1, when: [1, 5] }],
      [Conditional, { n: 1, when: [1, 6] }],
      [Conditional, { n: 2, when: [9] }],
      [Conditional, { single: 3 }],
      [Conditional, { single: 4 }],
      [Conditional, { single: [1] }],
      [Counted, { v: 'yes' }],
      [Counted, { v: 'no' }],
    ];
    it.each(cases)('%p %j', (cls, body) => {
      expect(validatePlain(cls, body, '')).toStrictEqual(validateFully(cls, body, ''));
      const fast = compiledValidate(cls, body);
      if (fast) expect(fast).toStrictEqual(validateFully(cls, body, '').value);
      else expect(validateFully(cls, body, '').value).toBeUndefined();
    });
    it("calls a registered constraint's own validate", () => {
      calls = 0;
      expect(compiledValidate(Counted, { v: 'yes' })).toBeInstanceOf(Counted);
      expect(calls).toBe(1);
    });
  });
});
