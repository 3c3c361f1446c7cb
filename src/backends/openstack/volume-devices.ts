import type { Logger } from 'pino';
import type { Connection } from '../../openstack/index.js';
import type { VmRecord } from '../../repository/vm-repository.js';

/**
 * The device each attached volume has on a server (docs/contract.md section 10: a VM's `volumes`).
 * Nova's server body names attached volumes by id only; the devices are in the server's
 * os-volume_attachments, one more call. So it is asked only when one VM is read (GET /vms/{id} and
 * the waits; lists show `device: null`), and only for a VM with volumes. Not remembered: a volume
 * detached and attached again may get another device while the server's volume ids look the same.
 */
export async function withVolumeDevices(connection: Connection, log: Logger, record: VmRecord, requestId: string): Promise<VmRecord> {
  const { vm } = record;
  if (vm.volumes.length === 0) return record;
  let devices: Map<string, string>;
  try {
    const attachments = await connection.compute.listVolumeAttachments(vm.id, { requestId });
    devices = new Map(attachments.flatMap((a) => (a.device ? [[a.volumeId, a.device] as const] : [])));
  } catch (err) {
    // The VM was read; its devices are a detail that can wait for the next read.
    log.warn({ event: 'openstack.volume_devices_unread', vm_id: vm.id, error: String(err) }, "Could not read the devices of a VM's volumes");
    return record;
  }
  return { ...record, vm: { ...vm, volumes: vm.volumes.map((v) => ({ ...v, device: devices.get(v.id) ?? null })) } };
}
