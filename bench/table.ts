/** Renders rows as a plain-text table with aligned columns. */

export interface Row {
  id: string;
  figure: string;
  direct: string;
  tunnel: string;
  ratio: string;
  target: string;
  verdict: string;
}

const HEADER: Row = { id: '#', figure: 'Figure', direct: 'Direct', tunnel: 'Tunnel', ratio: 'Tunnel/Direct', target: 'Target', verdict: 'Verdict' };
const COLUMNS: readonly (keyof Row)[] = ['id', 'figure', 'direct', 'tunnel', 'ratio', 'target', 'verdict'];
/** Numbers read best right-aligned; words left. */
const RIGHT_ALIGNED = new Set<keyof Row>(['direct', 'tunnel', 'ratio']);

export function renderTable(rows: readonly Row[]): string {
  const all = [HEADER, ...rows];
  const widths = COLUMNS.map((column) => Math.max(...all.map((row) => row[column].length)));
  const line = (row: Row): string =>
    COLUMNS.map((column, i) => (RIGHT_ALIGNED.has(column) ? row[column].padStart(widths[i]) : row[column].padEnd(widths[i]))).join(' │ ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const out = [line(HEADER), rule];
  let previousId: string | null = null;
  for (const row of rows) {
    const first = row.id !== previousId;
    if (first && previousId !== null) out.push(rule);
    previousId = row.id;
    // The figure's number only on its first line, so groups stand out.
    out.push(line(first ? row : { ...row, id: '' }));
  }
  return out.join('\n');
}
