/**
 * What the tunnels and streams tables share: column definitions, filtering, sorting,
 * paging, and their styles (each table's order and page are kept by a TableController).
 * Only one page of rows is ever rendered, so 2,000 open streams cost a sort a second and
 * 50 rows of DOM, keyed so rows are reused, not rebuilt.
 */
import { css, html, nothing, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { cardStyles } from './card-styles.js';
import type { StreamStatus } from '../../server/status/snapshot.js';

export interface Column<T> {
  id: string;
  label: string;
  /** What sorting compares. */
  sortValue: (row: T) => string | number;
  render: (row: T) => unknown;
  numeric?: boolean;
  /** Hidden on narrow (phone) screens. */
  secondary?: boolean;
  /** Shown only while this holds: a column only some relays fill (the worker, with --workers N). */
  shown?: () => boolean;
}

export interface SortState {
  column: string;
  descending: boolean;
}

export const PAGE_SIZE = 50;

/**
 * Space-separated terms, all of which must match. A term matches when any field contains it
 * (case-insensitive); a term like "#3" names a tunnel and must match its id exactly.
 */
export function matchesFilter(filter: string, fields: readonly (string | null)[], tunnelId: string): boolean {
  const terms = filter.toLowerCase().split(/\s+/).filter((term) => term.length > 0);
  return terms.every((term) => {
    if (/^#\d+$/.test(term)) return term.slice(1) === tunnelId;
    return fields.some((field) => field !== null && field.toLowerCase().includes(term));
  });
}

/** A stream matches on its destination, resolved address, kind, its tunnel's kind (wisp), state, its tunnel's token name, or #tunnel. */
export function streamMatches(filter: string, stream: StreamStatus, tokenName: string | null): boolean {
  return matchesFilter(filter, [stream.destination, stream.resolved, stream.kind, stream.tunnelKind, stream.state, tokenName], stream.tunnel);
}

export function sortRows<T>(rows: T[], columns: readonly Column<T>[], sort: SortState): T[] {
  const column = columns.find((candidate) => candidate.id === sort.column) ?? columns[0];
  const direction = sort.descending ? -1 : 1;
  return rows.sort((a, b) => {
    const x = column.sortValue(a);
    const y = column.sortValue(b);
    if (x === y) return 0;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * direction;
    return String(x).localeCompare(String(y), undefined, { numeric: true }) * direction;
  });
}

/** Clicking the sorted column flips it; another column sorts numbers largest first, text A to Z. */
export function nextSort<T>(current: SortState, column: Column<T>): SortState {
  if (current.column === column.id) return { column: column.id, descending: !current.descending };
  return { column: column.id, descending: Boolean(column.numeric) };
}

export function renderHeader<T>(columns: readonly Column<T>[], sort: SortState, onSort: (column: Column<T>) => void): TemplateResult {
  return html`<thead>
    <tr>
      ${columns.map((column) => {
        const sorted = sort.column === column.id;
        const ariaSort = sorted ? (sort.descending ? 'descending' : 'ascending') : 'none';
        return html`<th
          scope="col"
          aria-sort=${ariaSort}
          class=${cellClass(column)}
        >
          <button type="button" @click=${() => onSort(column)}>
            ${column.label}<span class="arrow" aria-hidden="true">${sorted ? (sort.descending ? '▼' : '▲') : ''}</span>
          </button>
        </th>`;
      })}
    </tr>
  </thead>`;
}

/**
 * The scrolling table: header (click to sort) and one keyed row per visible item.
 * `rowClass` marks rows, e.g. streams opened in the last second.
 */
export function renderTable<T extends { id: string | number }>(
  columns: readonly Column<T>[],
  rows: readonly T[],
  sort: SortState,
  onSort: (column: Column<T>) => void,
  rowClass: (row: T) => string = () => '',
): TemplateResult {
  return html`<div class="scroll">
    <table>
      ${renderHeader(columns, sort, onSort)}
      <tbody>
        ${repeat(
          rows,
          (row) => row.id,
          (row) => html`<tr data-id=${row.id} class=${rowClass(row)}>
            ${columns.map((column) => html`<td data-col=${column.id} class=${cellClass(column)}>${column.render(row)}</td>`)}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function cellClass<T>(column: Column<T>): string {
  return `${column.numeric ? 'num' : ''} ${column.secondary ? 'secondary' : ''}`;
}

export function renderPager(page: number, pageCount: number, total: number, onPage: (page: number) => void): TemplateResult | typeof nothing {
  if (pageCount <= 1) return nothing;
  const first = page * PAGE_SIZE + 1;
  const last = Math.min(total, (page + 1) * PAGE_SIZE);
  return html`<nav class="pager" aria-label="pages">
    <button type="button" ?disabled=${page === 0} @click=${() => onPage(page - 1)}>‹ Previous</button>
    <span>${first}–${last} of ${total}</span>
    <button type="button" ?disabled=${page >= pageCount - 1} @click=${() => onPage(page + 1)}>Next ›</button>
  </nav>`;
}

export const tableStyles = [
  cardStyles,
  css`
    .card {
      overflow: hidden;
    }
    header {
      display: flex;
      align-items: baseline;
      justify-content: space-between;
      gap: 8px;
      padding: 12px 16px;
      border-bottom: 1px solid var(--line, #e3e6ea);
    }
    .count {
      color: var(--muted, #667085);
      font-size: 13px;
    }
    .scroll {
      overflow-x: auto;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      font-size: 13px;
      font-variant-numeric: tabular-nums;
    }
    th,
    td {
      padding: 7px 12px;
      text-align: left;
      white-space: nowrap;
      border-bottom: 1px solid var(--line-soft, #eef0f3);
    }
    th {
      position: sticky;
      top: 0;
      background: var(--head, #f8f9fb);
      font-weight: 600;
      color: var(--muted, #667085);
      font-size: 12px;
      padding: 0;
    }
    th button {
      all: unset;
      cursor: pointer;
      display: block;
      padding: 8px 12px;
      width: 100%;
      box-sizing: border-box;
    }
    th button:focus-visible {
      outline: 2px solid var(--accent, #2563eb);
      outline-offset: -2px;
    }
    th.num button {
      text-align: right;
    }
    .arrow {
      display: inline-block;
      width: 1em;
      font-size: 9px;
      padding-left: 3px;
    }
    .num {
      text-align: right;
    }
    tbody tr:hover {
      background: var(--hover, #f5f8ff);
    }
    tbody tr.fresh {
      animation: fresh 1.2s ease-out;
    }
    @keyframes fresh {
      from {
        background: var(--fresh, #dcfce7);
      }
    }
    .dest {
      display: inline-block;
      vertical-align: bottom;
      max-width: 24em;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .muted {
      color: var(--muted, #667085);
    }
    .empty {
      padding: 20px 16px;
      color: var(--muted, #667085);
      font-size: 13px;
    }
    .pager {
      display: flex;
      align-items: center;
      justify-content: flex-end;
      gap: 12px;
      padding: 8px 16px;
      font-size: 13px;
      color: var(--muted, #667085);
    }
    .pager button {
      font: inherit;
      padding: 4px 10px;
      border: 1px solid var(--line, #e3e6ea);
      border-radius: 6px;
      background: var(--card, #fff);
      color: var(--text, #1d2939);
      cursor: pointer;
    }
    .pager button:disabled {
      opacity: 0.4;
      cursor: default;
    }
    .chip {
      display: inline-block;
      padding: 1px 7px;
      border-radius: 999px;
      font-size: 11px;
      font-weight: 600;
      background: var(--chip, #eef2f6);
      color: var(--text, #1d2939);
    }
    .chip.open {
      background: var(--ok-bg, #dcfce7);
      color: var(--ok, #166534);
    }
    .chip.opening {
      background: var(--warn-bg, #fef3c7);
      color: var(--warn, #92400e);
    }
    .link {
      all: unset;
      cursor: pointer;
      color: var(--accent, #2563eb);
      font-weight: 600;
    }
    .link:focus-visible {
      outline: 2px solid var(--accent, #2563eb);
    }
    @media (max-width: 640px) {
      .secondary {
        display: none;
      }
      th button,
      td {
        padding-left: 6px;
        padding-right: 6px;
      }
      th button {
        padding-left: 6px;
      }
      .dest {
        max-width: 10em;
      }
    }
`,
];
