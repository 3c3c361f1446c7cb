import { z } from 'zod';

/** The `*_links` of Nova and Neutron collections; `next` carries the pagination marker. */
export const linkSchema = z.looseObject({ href: z.string(), rel: z.string() });

export type Link = z.infer<typeof linkSchema>;

/** Reads the marker out of a `next` link, or undefined on the last page. */
export function nextMarker(links: readonly Link[] | undefined): string | undefined {
  const next = links?.find((link) => link.rel === 'next');
  if (next === undefined) return undefined;
  return new URL(next.href, 'http://relative.invalid').searchParams.get('marker') ?? undefined;
}

/**
 * Reads every page of a marker-paged collection. A marker seen before would loop for ever; Nova and
 * Neutron never send one, but a proxy in between might.
 */
export async function readAllPages<T>(
  firstMarker: string | undefined,
  readPage: (marker: string | undefined) => Promise<{ items: T[]; nextMarker: string | undefined }>,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  for (let marker = firstMarker; ; ) {
    const page = await readPage(marker);
    items.push(...page.items);
    if (page.nextMarker === undefined || seen.has(page.nextMarker)) return items;
    seen.add(page.nextMarker);
    marker = page.nextMarker;
  }
}
