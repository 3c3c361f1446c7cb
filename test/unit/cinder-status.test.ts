import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cinderStatusToVolume, readCinderStatus } from '../../src/backends/openstack/cinder-status.js';
import { toRecord } from '../../src/backends/openstack/openstack-volume-repository.js';
import { blockStorageRoot, negotiateMicroversion } from '../../src/openstack/block-storage/versions.js';
import { listVolumesQuery } from '../../src/openstack/block-storage/volumes.js';

describe('cinderStatusToVolume', () => {
  it('is the table ARCHITECTURE.md shows, row by row', () => {
    const doc = readFileSync(new URL('../../ARCHITECTURE.md', import.meta.url), 'utf8');
    for (const [cinder, r] of Object.entries(cinderStatusToVolume)) {
      const shown = r.status === 'attachments' ? 'last settled: `IN_USE` if attached, else `AVAILABLE`' : `\`${r.status}\``;
      expect(doc).toContain(`| \`${cinder}\` | ${shown} | \`${r.task}\` |`);
    }
  });

  it.each(Object.entries(cinderStatusToVolume))('reads %s as the table says', (cinder, r) => {
    for (const attached of [false, true]) {
      const reading = readCinderStatus(cinder, attached);
      expect(reading.task).toBe(r.task);
      expect(reading.status).toBe(r.status === 'attachments' ? (attached ? 'IN_USE' : 'AVAILABLE') : r.status);
      expect(reading.known).toBe(true);
    }
  });

  it('reads a status it does not know as ERROR', () => {
    expect(readCinderStatus('maintenance', false)).toEqual({ status: 'ERROR', task: null, known: false });
  });
});

const cinderVolume = (over: Record<string, unknown> = {}) => ({
  id: '7b3e1c2a-5d4f-4e6a-9b8c-1a2b3c4d5e6f',
  name: 'data-1',
  description: null,
  size: 2,
  status: 'in-use',
  attachments: [{ server_id: 's1', device: '/dev/vdb' }],
  metadata: { 'vmapi-tenant': 't1' },
  created_at: '2026-11-23T19:06:55.000000',
  updated_at: '2026-11-23T19:07:00.000000',
  ...over,
});

describe('toRecord (a Cinder volume as the API shows it)', () => {
  it('maps the fields, the attachment and the tenant mark', () => {
    expect(toRecord(cinderVolume()).volume).toEqual({
      id: '7b3e1c2a-5d4f-4e6a-9b8c-1a2b3c4d5e6f',
      name: 'data-1',
      description: '',
      size_gb: 2,
      status: 'IN_USE',
      task: null,
      attached_to: { vm_id: 's1', device: '/dev/vdb' },
      fault: null,
      tenant: 't1',
      created_at: '2026-11-23T19:06:55.000Z',
      updated_at: '2026-11-23T19:07:00.000Z',
    });
  });

  it('gives an unmarked volume to the default tenant, and a failed one a fault', () => {
    const record = toRecord(cinderVolume({ status: 'error_extending', attachments: [], metadata: {}, updated_at: null }));
    expect(record.volume).toMatchObject({ tenant: 'default', status: 'ERROR', fault: { code: 'EXTEND_FAILED' }, updated_at: '2026-11-23T19:06:55.000Z' });
    expect(toRecord(cinderVolume({ status: 'retyping' })).volume.fault?.code).toBe('UNSUPPORTED_STATE');
  });

  it('changes the version when the volume changes', () => {
    expect(toRecord(cinderVolume()).version).toBe(toRecord(cinderVolume()).version);
    expect(toRecord(cinderVolume({ size: 3 })).version).not.toBe(toRecord(cinderVolume()).version);
  });
});

describe('block-storage versions', () => {
  it('finds the version document at the root of the endpoint', () => {
    expect(blockStorageRoot('http://127.0.0.1:8776/v3/8812e10c31ea47789716b277004ef5f1')).toBe('http://127.0.0.1:8776/v3');
    expect(blockStorageRoot('http://cloud/volume/v3/')).toBe('http://cloud/volume/v3');
  });

  it('speaks the preferred microversion, else the highest that has what the API needs', () => {
    expect(negotiateMicroversion({ min: '3.0', max: '3.70' }, '3.60', '3.42')).toBe('3.60');
    expect(negotiateMicroversion({ min: '3.0', max: '3.50' }, '3.60', '3.42')).toBe('3.50');
    expect(negotiateMicroversion({ min: '3.0', max: '3.27' }, '3.60', '3.42')).toBeUndefined();
  });

  it('sends the metadata filter as Cinder reads it', () => {
    expect(listVolumesQuery({ metadata: { 'vmapi-tenant': 't1' }, limit: 5 })).toMatchObject({ limit: 5, metadata: '{"vmapi-tenant":"t1"}' });
  });
});
