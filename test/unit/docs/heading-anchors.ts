/**
 * The anchors GitHub gives a Markdown file's headings: `## 1. The Entra app registration` →
 * `1-the-entra-app-registration` (lower case, punctuation dropped, spaces to hyphens, `-1`, `-2` on repeats).
 */
export function headingAnchors(markdown: string): string[] {
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\s-]/gu, '')
      .replace(/\s/g, '-');
    const repeats = seen.get(base) ?? 0;
    seen.set(base, repeats + 1);
    anchors.push(repeats === 0 ? base : `${base}-${repeats}`);
  }
  return anchors;
}
