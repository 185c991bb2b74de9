/**
 * Turning interleaved rounds into the tables of `bench/RESULTS.md`: for each contender and
 * column, the median and range over the rounds, and the ratio to a reference contender taken
 * within each round (so a round slowed by the busy machine slows both sides of its ratio).
 * Not a benchmark itself.
 */

/** One contender's numbers in one round (`undefined` where a column does not apply). */
export interface RoundRow {
  readonly round: number;
  readonly contender: string;
  readonly values: Readonly<Record<string, number | undefined>>;
}

/** A column of the table: a key of {@link RoundRow.values}, its heading and its unit. */
export interface Column {
  readonly key: string;
  readonly heading: string;
  readonly unit: string;
  readonly digits?: number;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted.at(-1) as number, n: sorted.length };
}

/** Per contender and column: the absolute spread and the spread of per-round ratios to `reference`. */
export function summarize(
  rows: readonly RoundRow[],
  columns: readonly Column[],
  reference: string,
): Record<string, Record<string, { absolute?: Spread; ratio?: Spread }>> {
  const out: Record<string, Record<string, { absolute?: Spread; ratio?: Spread }>> = {};
  const contenders = [...new Set(rows.map((r) => r.contender))];
  for (const contender of contenders) {
    const mine = rows.filter((r) => r.contender === contender);
    const cells: Record<string, { absolute?: Spread; ratio?: Spread }> = {};
    for (const { key } of columns) {
      const absolute = spread(mine.map((r) => r.values[key] ?? Number.NaN));
      const ratios = mine.map((r) => {
        const ref = rows.find((x) => x.round === r.round && x.contender === reference)?.values[key];
        const value = r.values[key];
        return ref && value !== undefined ? value / ref : Number.NaN;
      });
      const ratio = spread(ratios);
      cells[key] = { ...(absolute ? { absolute } : {}), ...(ratio ? { ratio } : {}) };
    }
    out[contender] = cells;
  }
  return out;
}

const fixed = (value: number, digits: number): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** "median (min–max) unit · ×ratio (min–max)", or "median unit" for a single round. */
export function formatCell(cell: { absolute?: Spread; ratio?: Spread } | undefined, column: Column): string {
  if (!cell?.absolute) return '–';
  const d = column.digits ?? 0;
  const a = cell.absolute;
  const abs =
    a.n > 1
      ? `${fixed(a.median, d)} (${fixed(a.min, d)}–${fixed(a.max, d)}) ${column.unit}`
      : `${fixed(a.median, d)} ${column.unit}`;
  const r = cell.ratio;
  if (!r) return abs;
  const ratio =
    r.n > 1 ? `×${fixed(r.median, 2)} (${fixed(r.min, 2)}–${fixed(r.max, 2)})` : `×${fixed(r.median, 2)}`;
  return `${abs} · ${ratio}`;
}

/** The markdown table of a summary, one line per contender in `order`. */
export function markdownTable(
  summary: ReturnType<typeof summarize>,
  columns: readonly Column[],
  labels: readonly { id: string; label: string }[],
): string {
  const lines = [
    `| contender | ${columns.map((c) => c.heading).join(' | ')} |`,
    `| --- | ${columns.map(() => '---').join(' | ')} |`,
  ];
  for (const { id, label } of labels) {
    if (!summary[id]) continue;
    lines.push(`| ${label} | ${columns.map((c) => formatCell(summary[id]?.[c.key], c)).join(' | ')} |`);
  }
  return lines.join('\n');
}
