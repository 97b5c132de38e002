import { ValidateBy } from 'class-validator';

/**
 * A number that must not exceed another variable of the same configuration (a default under
 * its maximum, say); `example` completes the message. Either one invalid on its own is left to
 * its own check.
 */
export function NotAbove(other: string, example: string): PropertyDecorator {
  return ValidateBy({
    name: 'notAbove',
    constraints: [other],
    validator: {
      validate: (value: unknown, args): boolean => {
        const bound = (args?.object as Record<string, unknown> | undefined)?.[other];
        return typeof value !== 'number' || typeof bound !== 'number' || value <= bound;
      },
      defaultMessage: () => `must not be above ${other}, e.g. ${example}`,
    },
  });
}
