import { continueTrace, idProblem, inboundTracestate, traceparentOf } from './ids';

describe(idProblem.name, () => {
  it.each([
    ['trace-demo-123'],
    ['0b8c0c9e-7d0f-4a51-9d4c-3f1b7f2a9e11'],
    ['a'.repeat(128)],
    ['b64+/=:@~_.x'],
  ])('accepts %s', (id) => {
    expect(idProblem(id)).toBeUndefined();
  });

  it.each([
    ['', 'it is empty'],
    ['a'.repeat(129), 'it is 129 characters long (at most 128)'],
    ['a\r\nb', 'it contains control characters'],
    ['caf\u00e9', 'it contains non-ASCII characters'],
    ['{"a":1}', 'it contains characters outside A-Z a-z 0-9 - _ . : / + = @ ~'],
    ['%0d%0a', 'it contains characters outside A-Z a-z 0-9 - _ . : / + = @ ~'],
    ['two words', 'it contains characters outside A-Z a-z 0-9 - _ . : / + = @ ~'],
  ])('refuses %j: %s', (id, reason) => {
    expect(idProblem(id)).toBe(reason);
  });
});

describe(continueTrace.name, () => {
  const inbound = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('continues a valid traceparent with a new span whose parent is the inbound one', () => {
    const { trace, valid } = continueTrace(inbound);
    expect(valid).toBe(true);
    expect(trace).toMatchObject({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      parent_span_id: '00f067aa0ba902b7',
      flags: '01',
    });
    expect(trace.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.span_id).not.toBe('00f067aa0ba902b7');
    expect(traceparentOf(trace)).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${trace.span_id}-01`);
  });

  it.each([
    ['missing', undefined],
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['upper case', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['garbage', 'not a traceparent'],
  ])('starts a new trace when it is %s', (_name, value) => {
    const { trace, valid } = continueTrace(value);
    expect(valid).toBe(false);
    expect(trace.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.trace_id).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(trace.parent_span_id).toBeUndefined();
  });

  it('draws a fresh, well-formed trace and span id each time, across refills of its pool', () => {
    const ids = new Set<string>();
    // 4,096 bytes of pool hold 170 new traces (16 + 8 bytes each): this crosses several refills.
    for (let i = 0; i < 1000; i++) {
      const { trace } = continueTrace(undefined);
      expect(`${trace.trace_id} ${trace.span_id}`).toMatch(/^[0-9a-f]{32} [0-9a-f]{16}$/);
      ids.add(trace.trace_id).add(trace.span_id);
    }
    expect(ids.size).toBe(2000);
  });
});

describe('continueTrace across traceparent versions', () => {
  const ids = '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7';

  it('parses a future version with extra fields, passing it on as version 00', () => {
    const { trace, valid } = continueTrace(`cc-${ids}-09-what-the-future-holds`);
    expect(valid).toBe(true);
    expect(trace).toMatchObject({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      parent_span_id: '00f067aa0ba902b7',
      // Only the flag version 00 knows (sampled) is carried over.
      flags: '01',
    });
    expect(traceparentOf(trace)).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('parses a future version without extra fields', () => {
    expect(continueTrace(`01-${ids}-00`).valid).toBe(true);
  });

  it.each([
    [`00-${ids}-01-extra`, 'version 00 with a fifth field'],
    [`ff-${ids}-01`, 'the forbidden version ff'],
    [`cc-${ids}-01extra`, 'a future version whose flags run on without a dash'],
  ])('refuses %s (%s)', (header) => {
    expect(continueTrace(header).valid).toBe(false);
  });
});

describe(inboundTracestate.name, () => {
  it('passes on a list of vendor entries, several headers joined', () => {
    expect(inboundTracestate(['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'])).toBe(
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    );
  });

  it('drops one that is too long or not printable ASCII', () => {
    expect(inboundTracestate(`a=${'x'.repeat(600)}`)).toBeUndefined();
    expect(inboundTracestate('a=b\r\nc=d')).toBeUndefined();
    expect(inboundTracestate(undefined)).toBeUndefined();
  });
});
