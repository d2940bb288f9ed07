/** <streams-table>: every open stream, sortable, filtered, one page at a time. */
import { html, LitElement, type PropertyDeclarations, type PropertyValues } from 'lit';
import type { StreamStatus } from '../../server/status/snapshot.js';
import { formatBytes, formatDuration, formatRate } from './format.js';
import { nextSort, PAGE_SIZE, renderPager, renderTable, sortRows, streamMatches, tableStyles, type Column, type SortState } from './table-view.js';

const COLUMNS: readonly Column<StreamStatus>[] = [
  { id: 'tunnel', label: 'Tunnel', sortValue: (s) => Number(s.tunnel), render: (s) => `#${s.tunnel}`, secondary: true },
  { id: 'kind', label: 'Kind', sortValue: (s) => s.kind, render: (s) => s.kind },
  { id: 'destination', label: 'Destination', sortValue: (s) => s.destination, render: (s) => html`<span class="dest" title=${s.destination}>${s.destination}</span>` },
  { id: 'resolved', label: 'Resolved', sortValue: (s) => s.resolved ?? '', render: (s) => s.resolved ?? html`<span class="muted">–</span>`, secondary: true },
  { id: 'state', label: 'State', sortValue: (s) => s.state, render: (s) => html`<span class="chip ${s.state}">${s.state}</span>`, secondary: true },
  { id: 'age', label: 'Age', sortValue: (s) => s.ageMs, render: (s) => formatDuration(s.ageMs), numeric: true },
  { id: 'down', label: '↓ Down', sortValue: (s) => s.bytesDown, render: (s) => formatBytes(s.bytesDown), numeric: true },
  { id: 'up', label: '↑ Up', sortValue: (s) => s.bytesUp, render: (s) => formatBytes(s.bytesUp), numeric: true },
  { id: 'rate-down', label: '↓ Rate', sortValue: (s) => s.rateDown, render: (s) => formatRate(s.rateDown), numeric: true },
  { id: 'rate-up', label: '↑ Rate', sortValue: (s) => s.rateUp, render: (s) => formatRate(s.rateUp), numeric: true, secondary: true },
];

export class StreamsTable extends LitElement {
  static override properties: PropertyDeclarations = {
    streams: { attribute: false },
    filter: {},
    tokenNames: { attribute: false },
    sort: { state: true },
    page: { state: true },
  };
  static override styles = tableStyles;

  /** The open streams, as in the snapshot. */
  declare streams: StreamStatus[];
  /** The filter box's text: matches destination, resolved address, kind, state, token name, or #tunnel. */
  declare filter: string;
  /** Tunnel id → token name, so a stream can be found by the token its tunnel used. */
  declare tokenNames: ReadonlyMap<string, string>;
  declare sort: SortState;
  declare page: number;

  private visible: StreamStatus[] = [];
  private matching = 0;
  private pageCount = 1;
  private seen = new Set<string>();
  private fresh = new Set<string>();

  constructor() {
    super();
    this.streams = [];
    this.filter = '';
    this.tokenNames = new Map();
    this.sort = { column: 'age', descending: false };
    this.page = 0;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('streams')) this.trackFresh();
    if (changed.has('filter')) this.page = 0;
    const matching = this.streams.filter((s) => streamMatches(this.filter, s, this.tokenNames.get(s.tunnel) ?? null));
    sortRows(matching, COLUMNS, this.sort);
    this.matching = matching.length;
    this.pageCount = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
    if (this.page >= this.pageCount) this.page = this.pageCount - 1;
    this.visible = matching.slice(this.page * PAGE_SIZE, (this.page + 1) * PAGE_SIZE);
  }

  /** Rows new since the last snapshot flash once; the very first snapshot does not. */
  private trackFresh(): void {
    const ids = new Set(this.streams.map((s) => s.id));
    this.fresh = this.seen.size === 0 ? new Set() : new Set([...ids].filter((id) => !this.seen.has(id)));
    this.seen = ids;
  }

  protected override render() {
    const filtered = this.matching !== this.streams.length;
    return html`<section class="card" aria-labelledby="streams-title">
      <header>
        <h2 id="streams-title">Streams</h2>
        <span class="count">${filtered ? `${this.matching} of ${this.streams.length}` : this.streams.length} open</span>
      </header>
      ${this.matching === 0
        ? html`<div class="empty">${this.streams.length === 0 ? 'No open streams.' : 'No stream matches the filter.'}</div>`
        : renderTable(COLUMNS, this.visible, this.sort, (column) => (this.sort = nextSort(this.sort, column)), (s) => (this.fresh.has(s.id) ? 'fresh' : ''))}
      ${renderPager(this.page, this.pageCount, this.matching, (page) => (this.page = page))}
    </section>`;
  }
}

customElements.define('streams-table', StreamsTable);

declare global {
  interface HTMLElementTagNameMap {
    'streams-table': StreamsTable;
  }
}
