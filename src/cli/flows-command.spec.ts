import { errors } from '@elastic/elasticsearch';
import { refusal } from './flows-command';

/** An Elasticsearch client's error for an answer with `status`, as it throws it. */
function answered(status: number): errors.ResponseError {
  return new errors.ResponseError({
    body: { error: { type: 'security_exception', reason: 'no' }, status },
    statusCode: status,
    headers: {},
    warnings: null,
    meta: {
      context: null,
      name: 'threadline',
      request: { params: { method: 'POST', path: '/_search' }, options: {}, id: 1 },
      connection: null,
      attempts: 0,
      aborted: false,
    },
  });
}

describe(refusal.name, () => {
  const url = 'http://es.example:9200';

  it.each([
    [401, /refused the search \(401: .*\): set ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME/],
    [403, /refused the search \(403: .*\): set ELASTICSEARCH_API_KEY/],
    [429, /could not answer \(429: .*\)\. Try again later\./],
    [503, /could not answer \(503: .*\)\. Try again later\./],
  ])('names the fix for a %i (an exit 3)', (status, message) => {
    expect(refusal(answered(status), url)).toMatch(message);
  });

  it('leaves any other error to the caller', () => {
    expect(refusal(answered(400), url)).toBeUndefined();
    expect(refusal(new Error('no'), url)).toBeUndefined();
  });
});
