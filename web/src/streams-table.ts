/** <streams-table>: every open stream, sortable, filtered, one page at a time. */
import { html, LitElement, type PropertyDeclarations, type PropertyValues } from 'lit';
import type { StreamStatus } from '../../server/status/snapshot.js';
import { formatBytes, formatDuration, formatRate } from './format.js';
import { TableController } from './table-controller.js';
import { streamMatches, tableStyles, type Column } from './table-view.js';

const COLUMNS: readonly Column<StreamStatus>[] = [
  { id: 'tunnel', label: 'Tunnel', sortValue: (s) => Number(s.tunnel), render: (s) => `#${s.tunnel}`, secondary: true },
  { id: 'kind', label: 'Kind', sortValue: (s) => `${s.kind} ${s.tunnelKind}`, render: renderKind },
  { id: 'destination', label: 'Destination', sortValue: (s) => s.destination, render: (s) => html`<span class="dest" title=${s.destination}>${s.destination}</span>` },
  { id: 'resolved', label: 'Resolved', sortValue: (s) => s.resolved ?? '', render: (s) => s.resolved ?? html`<span class="muted">–</span>`, secondary: true },
  { id: 'state', label: 'State', sortValue: (s) => s.state, render: (s) => html`<span class="chip ${s.state}">${s.state}</span>`, secondary: true },
  { id: 'age', label: 'Age', sortValue: (s) => s.ageMs, render: (s) => formatDuration(s.ageMs), numeric: true },
  { id: 'down', label: '↓ Down', sortValue: (s) => s.bytesDown, render: (s) => formatBytes(s.bytesDown), numeric: true },
  { id: 'up', label: '↑ Up', sortValue: (s) => s.bytesUp, render: (s) => formatBytes(s.bytesUp), numeric: true },
  { id: 'rate-down', label: '↓ Rate', sortValue: (s) => s.rateDown, render: (s) => formatRate(s.rateDown), numeric: true },
  { id: 'rate-up', label: '↑ Rate', sortValue: (s) => s.rateUp, render: (s) => formatRate(s.rateUp), numeric: true, secondary: true },
];

/** A Wisp stream says so after its kind ("CONNECT wisp"); a tunnel's shows the kind alone. */
function renderKind(stream: StreamStatus) {
  return stream.tunnelKind === 'wisp' ? html`${stream.kind} <span class="muted">wisp</span>` : stream.kind;
}

/** What the table shows before the first snapshot: not a snapshot itself, so it does not count as one. */
const BEFORE_FIRST_SNAPSHOT: StreamStatus[] = [];

export class StreamsTable extends LitElement {
  static override properties: PropertyDeclarations = {
    streams: { attribute: false },
    filter: {},
    tokenNames: { attribute: false },
  };
  static override styles = tableStyles;

  /** The open streams, as in the snapshot. */
  declare streams: StreamStatus[];
  /** The filter box's text: matches destination, resolved address, kind (wisp too), state, token name, or #tunnel. */
  declare filter: string;
  /** Tunnel id → token name, so a stream can be found by the token its tunnel used. */
  declare tokenNames: ReadonlyMap<string, string>;

  private readonly table = new TableController(this, {
    columns: COLUMNS,
    sort: { column: 'age', descending: false },
    filter: () => this.filter,
    matching: () => this.streams.filter((s) => streamMatches(this.filter, s, this.tokenNames.get(s.tunnel) ?? null)),
  });
  /** The ids of the last snapshot; null until the first one came. */
  private seen: Set<string> | null = null;
  private fresh = new Set<string>();

  constructor() {
    super();
    this.streams = BEFORE_FIRST_SNAPSHOT;
    this.filter = '';
    this.tokenNames = new Map();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('streams')) this.trackFresh();
  }

  /** Rows new since the last snapshot flash once; the very first snapshot does not. */
  private trackFresh(): void {
    if (this.streams === BEFORE_FIRST_SNAPSHOT) return;
    const ids = new Set(this.streams.map((s) => s.id));
    const seen = this.seen;
    this.fresh = seen === null ? new Set() : new Set([...ids].filter((id) => !seen.has(id)));
    this.seen = ids;
  }

  protected override render() {
    const { matching } = this.table;
    const filtered = matching !== this.streams.length;
    return html`<section class="card" aria-labelledby="streams-title">
      <header>
        <h2 id="streams-title">Streams</h2>
        <span class="count">${filtered ? `${matching} of ${this.streams.length}` : this.streams.length} open</span>
      </header>
      ${this.table.render(this.streams.length === 0 ? 'No open streams.' : 'No stream matches the filter.', (s) => (this.fresh.has(s.id) ? 'fresh' : ''))}
    </section>`;
  }
}

customElements.define('streams-table', StreamsTable);

declare global {
  interface HTMLElementTagNameMap {
    'streams-table': StreamsTable;
  }
}
