import { describe, expect, it } from 'vitest';
import { OpenStackShapeError, parseUpstreamError } from '../../../src/openstack/errors.js';
import { fixture } from './fixtures.js';

describe('parseUpstreamError', () => {
  it.each([
    ['compute-error-400-reboot-type.json', 'badRequest', /^Invalid input for field\/attribute type/],
    ['compute-error-403-quota-ram.json', 'forbidden', /^Quota exceeded for ram/],
    ['compute-error-404-itemnotfound.json', 'itemNotFound', /could not be found\.$/],
    ['compute-error-406-microversion.json', 'computeFault', /^Version 2\.999 is not supported/],
    ['compute-error-409-conflict.json', 'conflictingRequest', /^Cannot 'start' instance/],
  ])('reads the Nova body of %s', (name, kind, message) => {
    const parsed = parseUpstreamError(JSON.stringify(fixture(name)));
    expect(parsed.kind).toBe(kind);
    expect(parsed.message).toMatch(message);
  });

  it("reads Keystone's error body", () => {
    expect(parseUpstreamError(JSON.stringify(fixture('keystone-error-401.json')))).toEqual({
      kind: 'error',
      message: 'The request you have made requires authentication.',
    });
  });

  it("reads Placement's errors list and Neutron's wrapper", () => {
    expect(parseUpstreamError('{"errors":[{"status":409,"title":"Conflict","detail":"resource provider generation conflict"}]}')).toEqual({
      kind: 'errors',
      message: 'resource provider generation conflict',
    });
    expect(parseUpstreamError('{"errors":[{"title":"Conflict"}]}').message).toBe('Conflict');
    expect(parseUpstreamError('{"NeutronError":{"type":"NetworkNotFound","message":"Network x could not be found.","detail":""}}')).toEqual({
      kind: 'NeutronError',
      message: 'Network x could not be found.',
    });
  });

  it('falls back to a top-level message, then to the raw text', () => {
    expect(parseUpstreamError('{"message":"plain"}')).toEqual({ kind: undefined, message: 'plain' });
    expect(parseUpstreamError('{"weird":1}')).toEqual({ kind: undefined, message: '{"weird":1}' });
    expect(parseUpstreamError('[1,2]')).toEqual({ kind: undefined, message: '[1,2]' });
  });

  it('strips HTML from Glance and proxies, and names an empty body', () => {
    expect(parseUpstreamError('<html><body>\n<h1>503 Service Unavailable</h1>\n</body></html>').message).toBe('503 Service Unavailable');
    expect(parseUpstreamError('').message).toBe('(empty body)');
    expect(parseUpstreamError('   ').message).toBe('(empty body)');
  });

  it('keeps at most 500 characters of upstream text', () => {
    const long = 'x'.repeat(2_000);
    expect(parseUpstreamError(long).message).toHaveLength(503);
    expect(parseUpstreamError(JSON.stringify({ badRequest: { message: long } })).message).toHaveLength(503);
  });
});

describe('OpenStackShapeError', () => {
  it('names the resource and the first path, and survives an empty issue list', () => {
    const error = new OpenStackShapeError('compute server', []);
    expect(error.path).toBe('');
    expect(error.message).toBe('unexpected compute server from OpenStack at "": unreadable');
    expect(error.name).toBe('OpenStackShapeError');
  });
});
