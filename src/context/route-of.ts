import type { Request } from 'express';

/**
 * The route template a request matched (`/api/v1/tasks/:id`), which keeps a metric's label
 * values few; `unmatched` for a request no route took (a 404, or one refused before routing).
 */
export function routeOf(req: Request): string {
  const route: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? `${req.baseUrl}${route}` : 'unmatched';
}
