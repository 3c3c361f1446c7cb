import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../../src/backends/openstack/upstream-errors.js';
import { ApiError } from '../../../src/domain/errors.js';
import { OpenStackHttpError } from '../../../src/openstack/index.js';

const silent = pino({ level: 'silent' });
const novaSite = { service: 'compute', method: 'POST', path: '/servers', requestId: 'req-1' };
const badRequest = (message: string, service = 'compute') =>
  new OpenStackHttpError({ ...novaSite, service }, 400, { kind: 'badRequest', message }, 'req-up');
const map = (err: unknown) => toApiError(err, { operation: 'create' }, silent) as ApiError;

/** Nova's own sentences (Zed), as its 400 bodies carry them. */
describe("toApiError: Nova's 400s caused by the client's choice", () => {
  it.each([
    [
      'a flavor disk smaller than the image',
      'body.flavor',
      "Flavor's disk is too small for requested image. Flavor disk is 1073741824 bytes, image is 3221225472 bytes.",
      /1 GiB.*3 GiB/,
    ],
    [
      "a flavor disk smaller than the image's min_disk",
      'body.flavor',
      "Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is 1073741824 bytes, minimum size is 10737418240 bytes.",
      /1 GiB.*10 GiB/,
    ],
    ["a flavor memory below the image's min_ram", 'body.flavor', "Flavor's memory is too small for requested image.", /memory/],
    ['a resize to a zero-disk flavor', 'body.flavor', 'Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.', /root disk/],
    ['an image no longer active', 'body.image', 'Image 6d3b0c1e-0a5b-4b7e-9d55-0f6f3b1f2a11 is not active.', /image/],
  ])('maps %s to 400 VALIDATION_ERROR naming %s', (_what, path, upstream, said) => {
    const mapped = map(badRequest(upstream));
    expect(mapped).toBeInstanceOf(ApiError);
    expect(mapped.code).toBe('VALIDATION_ERROR');
    expect(mapped.extras.errors).toEqual([{ path, message: expect.stringMatching(said) as string }]);
    // Our sentence, not Nova's: no upstream text, no byte counts.
    expect(mapped.detail).not.toMatch(/Flavor's|bytes|requested image/);
  });

  it('keeps a 400 it does not know (a request this API built wrongly) as the API-side failure it was', () => {
    const mapped = map(badRequest("Invalid input for field/attribute networks. Value: auto. 'auto' is not of type 'array'"));
    expect(mapped.code).toBe('BACKEND_UNAVAILABLE');
    expect(mapped.extras).toEqual({ upstream: 'error' });
  });

  it("does not read another service's 400 as Nova's", () => {
    expect(map(badRequest("Flavor's memory is too small for requested image.", 'image')).code).toBe('BACKEND_UNAVAILABLE');
  });
});
