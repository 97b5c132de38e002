import { SetMetadata } from '@nestjs/common';

export const PUBLIC = 'threadline:public';

/** Marks a route that answers without an API key: health probes, the trace page's HTML. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);
