import type { VmActionEntry } from '../../domain/vm.js';

/**
 * Nova's instance action names in the API's words; the rest (confirmResize, the unpause before a
 * stop of a PAUSED VM shows as resume, snapshots, migrations) are Nova's own business and left out.
 */
export const novaActions: Readonly<Record<string, VmActionEntry['action']>> = {
  create: 'create',
  start: 'start',
  stop: 'stop',
  reboot: 'restart',
  pause: 'pause',
  unpause: 'resume',
  suspend: 'suspend',
  resume: 'resume',
  resize: 'resize',
  delete: 'delete',
};

export function novaActionToVm(action: string): VmActionEntry['action'] | undefined {
  return Object.hasOwn(novaActions, action) ? novaActions[action] : undefined;
}
