/**
 * A positive number from the environment, or `fallback` when the variable is unset or empty; a
 * whole one unless `whole` is false. Anything else stops the bench with the variable's name.
 */
export function envNumber(name: string, fallback: number, { whole = true } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const ok = whole ? Number.isInteger(value) : Number.isFinite(value);
  if (!ok || value <= 0) throw new Error(`${name} must be a positive ${whole ? 'whole ' : ''}number, got "${raw}"`);
  return value;
}
