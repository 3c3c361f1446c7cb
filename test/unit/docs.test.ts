import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seedFlavors, seedImages } from '../../src/backends/memory/catalog.js';
import { envSchema } from '../../src/config/env-schema.js';
import { errorCodes } from '../../src/domain/errors.js';
import { transitions } from '../../src/domain/transitions.js';
import { vmStatuses, vmTasks } from '../../src/domain/vm.js';
import { statusesOf } from '../../src/http/problem-catalog.js';
import { VmSchema } from '../../src/http/schemas.js';
import { volumeStatuses, volumeTasks, volumeTransitions } from '../../src/domain/volume.js';
import { VolumeSchema } from '../../src/http/volume-schemas.js';
import { DEFAULT_WAIT_S, MAX_WAIT_S } from '../../src/http/wait.js';
import { ApiClient } from '../support/api-client.js';
import { startApp } from '../support/memory-app.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

/** The state diagram ARCHITECTURE.md must show, generated from the transition table. */
function stateDiagram(): string {
  const lines = ['stateDiagram-v2', '    [*] --> STOPPED: create', '    [*] --> RUNNING: create (start true)', '    [*] --> ERROR: create (no host has room)'];
  for (const [from, row] of Object.entries(transitions)) {
    for (const [action, t] of Object.entries(row)) {
      const notes = [t.hardOnly && 'hard', t.placedOnly && 'placed only'].filter(Boolean);
      lines.push(`    ${from} --> ${t.next}: ${action}${notes.length ? ` (${notes.join(', ')})` : ''}`);
    }
  }
  lines.push('    DELETED --> [*]: retention ends');
  return lines.join('\n');
}

describe('the docs agree with the code', () => {
  it('ARCHITECTURE.md shows the state machine of the transition table', () => {
    const architecture = read('ARCHITECTURE.md');
    const block = /```mermaid\n(stateDiagram-v2[\s\S]*?)\n```/.exec(architecture)?.[1];
    expect(block, `expected this block in ARCHITECTURE.md:\n${stateDiagram()}`).toBe(stateDiagram());
  });

  it('the README configuration table names every variable', () => {
    const readme = read('README.md');
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});

/** The table docs/errors.md must hold, generated from the catalogue (the variants' statuses included). */
async function problemTable(): Promise<string> {
  const { problemCatalog, slugOf, statusesOf } = await import('../../src/http/problem-catalog.js');
  const rows = (Object.entries(problemCatalog) as [Parameters<typeof slugOf>[0], (typeof problemCatalog)[keyof typeof problemCatalog]][]).map(
    ([code, entry]) => {
      const statuses = [...statusesOf(code)].sort((a, b) => a - b).join(', ');
      const cases = (entry.variants ?? []).map((v) => ` ${v.status}: ${v.description}`).join('');
      return `| \`${code}\` | ${statuses} | \`/errors/${slugOf(code)}\` | ${entry.description}${cases} |`;
    },
  );
  return ['| code | status | type | when |', '|---|---|---|---|', ...rows].join('\n');
}

describe('docs/errors.md', () => {
  it('holds the table generated from the catalogue: every code, every status it is answered with, its description', async () => {
    const page = read('docs/errors.md');
    const table = /^\| code \|[\s\S]*?(?=\n\n)/m.exec(page)?.[0];
    const expected = await problemTable();
    expect(table, `expected this table in docs/errors.md:\n${expected}`).toBe(expected);
  });
});

describe('docs/contract.md', () => {
  const page = read('docs/contract.md');
  /** The text of section `n` ("## n. ..."), up to the next section. */
  const section = (n: number): string => {
    const start = page.indexOf(`\n## ${n}. `);
    expect(start, `section ${n} missing`).toBeGreaterThan(-1);
    const end = page.indexOf('\n## ', start + 1);
    return page.slice(start, end === -1 ? undefined : end);
  };
  /** The first cell of every row of the tables in `text`, header and rule left out. */
  const firstCells = (text: string): string[] =>
    text
      .split('\n')
      .filter((line) => line.startsWith('| ') && !/^\|-/.test(line))
      .map((line) => line.split('|')[1]?.trim() ?? '');
  const ticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

  it('section 1 lists exactly the fields of the VM resource, in its example and its table', () => {
    const fields = Object.keys(VmSchema.shape).sort();
    const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section(1))?.[1] ?? '{}') as Record<string, unknown>;
    expect(Object.keys(example).sort()).toEqual(fields);
    expect(VmSchema.safeParse(example).success).toBe(true);
    const tabled = firstCells(section(1)).flatMap(ticked).sort();
    expect(tabled).toEqual(fields);
  });

  it('section 1 names the statuses and tasks of the code, in order', () => {
    expect(ticked(/^Statuses: (.*)$/m.exec(section(1))?.[1] ?? '')).toEqual([...vmStatuses]);
    const tasks = /^Tasks: ([\s\S]*?)\.\n/m.exec(section(1))?.[1] ?? '';
    expect(ticked(tasks)).toEqual([...vmTasks]);
  });

  it('section 2 holds the transition table of the code, row for row', () => {
    const expected = Object.entries(transitions).flatMap(([from, row]) =>
      Object.entries(row).map(([action, t]) => {
        const note = [t.hardOnly && 'hard only', t.placedOnly && 'placed only'].filter(Boolean).join(', ');
        return `| ${from} | ${action} | ${t.next} | ${note} |`.replace('|  |', '| |');
      }),
    );
    const rows = section(2).split('\n').filter((line) => /^\| [A-Z]+ \| [a-z]+ \|/.test(line));
    expect(rows.join('\n'), `expected these rows:\n${expected.join('\n')}`).toBe(expected.join('\n'));
  });

  it('section 3 names every endpoint of the OpenAPI document, and no /api/v1 endpoint it lacks', async () => {
    const app = await startApp({ LOG_LEVEL: 'warn' });
    try {
      const doc = (await new ApiClient(app.baseUrl).call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json')).body;
      const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/^\/api\/v1/, '')}`),
      );
      const listed = firstCells(section(3)).flatMap(ticked);
      expect(documented.filter((endpoint) => !listed.includes(endpoint))).toEqual([]);
      const underApi = firstCells(section(3).split('Outside `/api/v1`')[0] ?? '').flatMap(ticked);
      expect(underApi.filter((endpoint) => !documented.includes(endpoint))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('section 3 states the wait limits of the code', () => {
    expect(section(3)).toContain(`\`?wait=true\` (${DEFAULT_WAIT_S} s)`);
    expect(section(3)).toContain(`at most ${MAX_WAIT_S}`);
  });

  it('section 4 lists every error code with the statuses the catalogue answers it with', () => {
    const rows = section(4)
      .split('\n')
      .map((line) => /^\| `([A-Z_]+)` \| ([\d, ]+) \|$/.exec(line))
      .filter((m) => m !== null)
      .map((m) => [m[1], m[2]]);
    const expected = errorCodes.map((code) => [code, [...statusesOf(code)].sort((a, b) => a - b).join(', ')]);
    expect(rows).toEqual(expected);
  });

  it('section 5 lists the memory backend\'s seed flavors and images', () => {
    const rows = section(5)
      .split('\n')
      .map((line) => /^\| `(m1\.[a-z]+)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$/.exec(line))
      .filter((m) => m !== null)
      .map(([, name, id, vcpus, ram, disk]) => ({ id, name, vcpus: Number(vcpus), ram_mb: Number(ram), disk_gb: Number(disk) }));
    expect(rows).toEqual(seedFlavors.map((f) => ({ ...f })));
    for (const image of seedImages) expect(section(5)).toContain(`\`${image.name}\``);
  });

  it('section 10 shows exactly the fields of the volume resource, and the volume\'s statuses and tasks', () => {
    const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section(10))?.[1] ?? '{}') as Record<string, unknown>;
    expect(Object.keys(example).sort()).toEqual(Object.keys(VolumeSchema.shape).sort());
    expect(VolumeSchema.safeParse(example).success).toBe(true);
    const text = section(10).replace(/\s+/g, ' ');
    for (const word of [...volumeStatuses, ...volumeTasks]) expect(text).toContain(`\`${word}\``);
  });

  it('section 10 holds the volume transition table of the code, row for row', () => {
    const expected = Object.entries(volumeTransitions).flatMap(([from, row]) =>
      Object.entries(row).map(([action, t]) => `| ${from} | ${action} | ${t.next} |`),
    );
    const rows = section(10).split('\n').filter((line) => /^\| [A-Z_]+ \| [a-z]+ \| [A-Z_]+ \|$/.test(line));
    expect(rows.join('\n'), `expected these rows:\n${expected.join('\n')}`).toBe(expected.join('\n'));
  });

  it('sections 1 to 8 and 11 name only configuration variables the API reads (or says it ignores)', () => {
    const today = [1, 2, 3, 4, 5, 6, 7, 8, 11].map(section).join('\n');
    const named = new Set([...today.matchAll(/`((?:OS|MOCK|API|RATE|PORT|HOST|BACKEND|EVENTS|HTTP|AUTH|ADMIN|TRUST)[A-Z_]*)`/g)].map((m) => m[1] as string));
    const ignored = ['OS_IDENTITY_API_VERSION'];
    const codes: readonly string[] = errorCodes;
    const unknown = [...named].filter((name) => !(name in envSchema.shape) && !ignored.includes(name) && !codes.includes(name));
    expect(unknown).toEqual([]);
  });
});
