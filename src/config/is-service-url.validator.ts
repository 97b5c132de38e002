import { registerDecorator, type ValidationArguments } from 'class-validator';

/**
 * Accepts an absolute URL whose scheme is one of `protocols` (e.g. `['redis:', 'rediss:']`)
 * and which names a host. The message shows `example`, never the rejected value, because
 * service URLs may carry passwords.
 */
export function IsServiceUrl(protocols: readonly string[], example: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isServiceUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string') return false;
          if (!URL.canParse(value)) return false;
          const url = new URL(value);
          return protocols.includes(url.protocol) && url.hostname !== '';
        },
        defaultMessage(args: ValidationArguments): string {
          const schemes = protocols.map((p) => `${p}//`).join(' or ');
          return `must be a ${schemes} URL with a host, e.g. ${args.property}=${example}`;
        },
      },
    });
  };
}
