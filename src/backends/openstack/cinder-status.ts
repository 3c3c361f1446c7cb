import type { VolumeStatus, VolumeTask } from '../../domain/volume.js';

/**
 * How a Cinder volume `status` reads as the contract's status and task. `status: 'attachments'`
 * means "the last settled state": an extend keeps Cinder's attachments, and only they tell whether
 * the volume was AVAILABLE or IN_USE before it began.
 */
export interface CinderStatusReading {
  status: VolumeStatus | 'attachments';
  task: VolumeTask | null;
}

/**
 * Cinder's volume statuses (api-ref "Volume statuses"), as data: the code, its unit test and the
 * table in ARCHITECTURE.md read this one object. A status not listed (backing-up, uploading,
 * retyping, maintenance, ...) is one this API cannot act on: the volume reads as ERROR with the
 * fault UNSUPPORTED_STATE, and Cinder's own 400 refuses actions meanwhile.
 */
export const cinderStatusToVolume: Readonly<Record<string, CinderStatusReading>> = {
  available: { status: 'AVAILABLE', task: null },
  'in-use': { status: 'IN_USE', task: null },
  error: { status: 'ERROR', task: null },
  error_deleting: { status: 'ERROR', task: null },
  error_extending: { status: 'ERROR', task: null },
  error_managing: { status: 'ERROR', task: null },
  error_restoring: { status: 'ERROR', task: null },
  creating: { status: 'AVAILABLE', task: 'creating' },
  downloading: { status: 'AVAILABLE', task: 'creating' },
  reserved: { status: 'AVAILABLE', task: 'attaching' },
  attaching: { status: 'AVAILABLE', task: 'attaching' },
  detaching: { status: 'IN_USE', task: 'detaching' },
  extending: { status: 'attachments', task: 'extending' },
  deleting: { status: 'AVAILABLE', task: 'deleting' },
};

/** The fault codes of the ERROR readings, by Cinder status. */
export const cinderErrorFaults: Readonly<Record<string, string>> = {
  error: 'CLOUD_FAULT',
  error_deleting: 'DELETE_FAILED',
  error_extending: 'EXTEND_FAILED',
  error_managing: 'CLOUD_FAULT',
  error_restoring: 'CLOUD_FAULT',
};

export function readCinderStatus(cinderStatus: string, attached: boolean): { status: VolumeStatus; task: VolumeTask | null; known: boolean } {
  const reading = cinderStatusToVolume[cinderStatus];
  if (!reading) return { status: 'ERROR', task: null, known: false };
  const status = reading.status === 'attachments' ? (attached ? 'IN_USE' : 'AVAILABLE') : reading.status;
  return { status, task: reading.task, known: true };
}
