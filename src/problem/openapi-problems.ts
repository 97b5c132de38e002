import type { OpenAPIObject } from '@nestjs/swagger';

const PROBLEM_JSON = 'application/problem+json';

/**
 * Makes the OpenAPI document say what the API sends: every 4xx and 5xx body is
 * `application/problem+json` (Nest's decorators can only say `application/json`). With API
 * keys on, every operation that needs one also documents 401 and 429.
 */
export function documentProblems(
  document: OpenAPIObject,
  options: { keysOn: boolean; problemSchema: string },
): OpenAPIObject {
  const problem = {
    [PROBLEM_JSON]: { schema: { $ref: `#/components/schemas/${options.problemSchema}` } },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.delete, item.patch]) {
      if (!operation) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400 && response && 'description' in response)
          response.content = problem;
      }
      if (options.keysOn && path.startsWith('/api/v1/')) {
        operation.responses['401'] = {
          description: 'No API key, or not one this server knows (API_KEYS).',
          content: problem,
        };
        operation.responses['429'] = {
          description: "Over the key's RATE_LIMIT_PER_MINUTE; retry after Retry-After.",
          content: problem,
        };
      }
    }
  }
  return document;
}
