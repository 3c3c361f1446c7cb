import { statusesAllowing } from '../../domain/transitions.js';
import type { VmAction } from '../../domain/vm.js';

const either = (words: string[]): string =>
  words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1] as string}`;

/**
 * An action endpoint's summary, written from the transition table so that the document cannot
 * drift from it: "Stop a RUNNING or PAUSED VM"; conditions (hard only, placed only) are spelled out.
 */
export function actionSummary(action: VmAction, tail = ''): string {
  const from = statusesAllowing(action);
  const plain = from.filter(({ transition: t }) => !t.hardOnly && !t.placedOnly).map(({ status }) => status);
  const conditional = from
    .filter(({ transition: t }) => t.hardOnly || t.placedOnly)
    .map(({ status, transition: t }) => {
      const placed = t.placedOnly ? ' that was placed on a host' : '';
      return `a VM in ${status}${placed}${t.hardOnly ? ' (hard only)' : ''}`;
    });
  const verb = `${action.charAt(0).toUpperCase()}${action.slice(1)}`;
  const clauses = [...(plain.length > 0 ? [`a ${either(plain)} VM${tail}`] : []), ...conditional];
  return `${verb} ${clauses.join(', or ')}`;
}
