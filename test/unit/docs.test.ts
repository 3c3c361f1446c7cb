import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../src/config/env-schema.js';
import { transitions } from '../../src/domain/transitions.js';

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
