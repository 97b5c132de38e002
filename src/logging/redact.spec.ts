import { loggableHeaders, REDACTED, redactDeep } from './redact';

describe(redactDeep.name, () => {
  it('redacts fields named like secrets at any depth, and keeps the rest', () => {
    expect(
      redactDeep({
        user: 'ada',
        password: 'p',
        nested: {
          apiKey: 'k',
          'api-key': 'k',
          list: [{ client_secret: 's', refresh_token: 't', ok: 1 }],
        },
        Authorization: 'Bearer x',
      }),
    ).toEqual({
      user: 'ada',
      password: REDACTED,
      nested: {
        apiKey: REDACTED,
        'api-key': REDACTED,
        list: [{ client_secret: REDACTED, refresh_token: REDACTED, ok: 1 }],
      },
      Authorization: REDACTED,
    });
  });

  it('leaves scalars and null alone', () => {
    expect(redactDeep('secret')).toBe('secret');
    expect(redactDeep(null)).toBeNull();
  });
});

describe(loggableHeaders.name, () => {
  it('redacts secret headers and leaves out the ID headers, which are logged validated', () => {
    expect(
      loggableHeaders({
        authorization: 'Bearer x',
        cookie: 'a=b',
        'x-api-key': 'k',
        'x-request-id': 'raw\u0007',
        traceparent: 'raw',
        'user-agent': 'curl',
      }),
    ).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      'x-api-key': REDACTED,
      'user-agent': 'curl',
    });
  });
});
