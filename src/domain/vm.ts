/** The VM resource as the API shows it (docs/contract.md section 1), and the words it is made of. */

import type { VmNetwork } from './network.js';
import type { VmVolume } from './volume.js';

export const vmStatuses = ['STOPPED', 'RUNNING', 'PAUSED', 'SUSPENDED', 'DELETED', 'ERROR'] as const;
export type VmStatus = (typeof vmStatuses)[number];

export const vmTasks = [
  'creating',
  'starting',
  'stopping',
  'restarting',
  'pausing',
  'resuming',
  'suspending',
  'resizing',
  'deleting',
] as const;
export type VmTask = (typeof vmTasks)[number];

export const vmActions = ['start', 'stop', 'restart', 'pause', 'resume', 'suspend', 'resize', 'delete'] as const;
export type VmAction = (typeof vmActions)[number];

export const restartTypes = ['soft', 'hard'] as const;
export type RestartType = (typeof restartTypes)[number];

export interface VmFault {
  /** A stable machine word, e.g. NO_VALID_HOST. */
  code: string;
  message: string;
  at: string;
}

export interface Vm {
  id: string;
  name: string;
  flavor: string;
  image: string;
  status: VmStatus;
  task: VmTask | null;
  ip_address: string | null;
  fault: VmFault | null;
  created_at: string;
  updated_at: string;
  /** The id of the tenant that owns it (docs/contract.md section 8). */
  tenant: string;
  /** The names of its security groups (docs/contract.md section 9). */
  security_groups: string[];
  /** Its networks and its fixed address on each, in the order asked for (section 9); `ip_address` is the first. */
  networks: VmNetwork[];
  /** The floating IP associated with it (section 9), or null. */
  floating_ip: string | null;
  /** The volumes attached to it (docs/contract.md section 10). */
  volumes: VmVolume[];
}

/** One entry of a VM's action history (GET /vms/{id}/actions), what `openstack server event list` shows. */
export interface VmActionEntry {
  action: VmAction | 'create';
  /** The API request that asked for it. */
  request_id: string | null;
  /** The API key that asked for it; null for an anonymous caller or when the cloud does not say. */
  key_id: string | null;
  started_at: string;
  /** Null while the task runs. */
  finished_at: string | null;
  /** Null while the task runs; `cancelled` when a delete interrupted it. */
  outcome: 'success' | 'error' | 'cancelled' | null;
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram_mb: number;
  disk_gb: number;
}

export interface Image {
  id: string;
  name: string;
  min_disk_gb: number;
  min_ram_mb: number;
}

/** What a mutating request asks of a VM, with the new flavor as `F` (a name from a client, a Flavor once resolved). */
export type VmCommandWith<F> =
  | { action: 'start' | 'stop' | 'pause' | 'resume' | 'suspend' | 'delete' }
  | { action: 'restart'; type: RestartType }
  | { action: 'resize'; flavor: F };

export type VmCommand = VmCommandWith<Flavor>;
