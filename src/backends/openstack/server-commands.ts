import type { CallOptions, ComputeProxy } from '../../openstack/index.js';
import type { VmRecord } from '../../repository/vm-repository.js';
import type { VmCommand, VmTask } from '../../domain/vm.js';
import { marks } from './marks.js';

/** Sends the Nova call(s) for an accepted command; returns the task the VM now shows. */
export async function sendCommand(compute: ComputeProxy, current: VmRecord, command: VmCommand, options: CallOptions): Promise<VmTask> {
  const { id, status } = current.vm;
  switch (command.action) {
    case 'start':
      await compute.serverAction(id, { type: 'start' }, options);
      return 'starting';
    case 'stop':
      if (status === 'PAUSED') {
        await stopPaused(compute, id, options);
      } else {
        await compute.serverAction(id, { type: 'stop' }, options);
      }
      return 'stopping';
    case 'restart':
      await compute.serverAction(id, { type: 'reboot', rebootType: command.type === 'hard' ? 'HARD' : 'SOFT' }, options);
      return 'restarting';
    case 'pause':
      await compute.serverAction(id, { type: 'pause' }, options);
      return 'pausing';
    case 'suspend':
      await compute.serverAction(id, { type: 'suspend' }, options);
      return 'suspending';
    case 'resume':
      await compute.serverAction(id, { type: status === 'PAUSED' ? 'unpause' : 'resume' }, options);
      return 'resuming';
    case 'resize':
      await compute.serverAction(id, { type: 'resize', flavorRef: command.flavor.id }, options);
      return 'resizing';
    case 'delete':
      await compute.deleteServer(id, options);
      return 'deleting';
  }
}

/**
 * Nova refuses to stop a PAUSED server; the contract allows it. Mark the server first, so that
 * whoever reads it next (this process or another) sends the stop once the unpause has settled,
 * and the VM reads as 'stopping' throughout.
 */
async function stopPaused(compute: ComputeProxy, id: string, options: CallOptions): Promise<void> {
  await compute.addServerTag(id, marks.stopAfterUnpause, options);
  try {
    await compute.serverAction(id, { type: 'unpause' }, options);
  } catch (err) {
    // Refused: no stop may follow later on the strength of the mark.
    await compute.removeServerTag(id, marks.stopAfterUnpause, options).catch(() => undefined);
    throw err;
  }
}
