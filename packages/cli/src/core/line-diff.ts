/**
 * A line diff of two texts, for showing a person how a later copy of an event differs from
 * the first: unified-style lines (`- ` only in the first, `+ ` only in the other, `  ` in
 * both) with a few lines of context around each change and `…` where unchanged lines are left out.
 */

export interface LineDiffOptions {
  /** Unchanged lines kept around each change (default 3). */
  context?: number;
  /**
   * Past this many line pairs the texts are not aligned (the work grows with their product):
   * null is returned and the caller shows the paths that differ instead. Default 4,000,000.
   */
  maxCells?: number;
}

/**
 * @example
 * lineDiff('a\nb\nc', 'a\nB\nc') // '  a\n- b\n+ B\n  c'
 */
export function lineDiff(before: string, after: string, options: LineDiffOptions = {}): string | null {
  const context = options.context ?? 3;
  const a = before.split('\n');
  const b = after.split('\n');
  // Lines shared at both ends need no alignment; only the middle goes through the table.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const n = endA - start;
  const m = endB - start;
  if (n * m > (options.maxCells ?? 4_000_000)) return null;
  // lcs[i][j]: the longest common run of a[start+i..endA) and b[start+j..endB), row by row in one array.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[start + i] === b[start + j]
          ? (lcs[(i + 1) * width + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * width + j] as number, lcs[i * width + j + 1] as number);
    }
  }
  const lines: Array<[op: ' ' | '-' | '+', text: string]> = [];
  for (let k = 0; k < start; k++) lines.push([' ', a[k] as string]);
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      lines.push([' ', a[start + i] as string]);
      i += 1;
      j += 1;
    } else if (i < n && (j === m || (lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number))) {
      // Removals before additions, as a unified diff reads.
      lines.push(['-', a[start + i] as string]);
      i += 1;
    } else {
      lines.push(['+', b[start + j] as string]);
      j += 1;
    }
  }
  for (let k = endA; k < a.length; k++) lines.push([' ', a[k] as string]);
  // Keep only changes and the context around them.
  const keep = lines.map(() => false);
  lines.forEach(([op], index) => {
    if (op === ' ') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k++) keep[k] = true;
  });
  const out: string[] = [];
  let skipped = false;
  lines.forEach(([op, text], index) => {
    if (!keep[index]) {
      skipped = true;
      return;
    }
    if (skipped) out.push('…');
    skipped = false;
    out.push(`${op} ${text}`);
  });
  if (skipped && out.length > 0) out.push('…');
  return out.join('\n');
}
