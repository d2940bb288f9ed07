/** <tunnels-table>: the connected tunnels, sortable and filtered. Clicking a tunnel's id filters its streams. */
import { html, LitElement, type PropertyDeclarations } from 'lit';
import type { StreamStatus, TunnelStatus } from '../../server/status/snapshot.js';
import { formatBytes, formatDuration, formatRate, formatRtt } from './format.js';
import { TableController } from './table-controller.js';
import { matchesFilter, streamMatches, tableStyles, type Column } from './table-view.js';

export class TunnelsTable extends LitElement {
  static override properties: PropertyDeclarations = {
    tunnels: { attribute: false },
    streams: { attribute: false },
    filter: {},
    now: { type: Number },
  };
  static override styles = tableStyles;

  /** The connected tunnels, as in the snapshot. */
  declare tunnels: TunnelStatus[];
  /** The open streams: a tunnel also matches the filter when one of its streams does. */
  declare streams: StreamStatus[];
  /** The filter box's text: matches remote address, token name, #tunnel, or any of the tunnel's streams. */
  declare filter: string;
  /** The relay's clock at the snapshot, for "connected for". */
  declare now: number;

  private readonly columns: readonly Column<TunnelStatus>[] = [
    {
      id: 'id',
      label: 'Tunnel',
      sortValue: (t) => Number(t.id),
      render: (t) => html`<button type="button" class="link" title="show this tunnel's streams" @click=${() => this.select(t.id)}>#${t.id}</button>`,
    },
    { id: 'token', label: 'Token', sortValue: (t) => t.tokenName, render: (t) => t.tokenName },
    { id: 'kind', label: 'Kind', sortValue: (t) => t.kind, render: (t) => t.kind, secondary: true },
    { id: 'remote', label: 'Remote', sortValue: (t) => t.remote, render: (t) => t.remote, secondary: true },
    {
      id: 'worker',
      label: 'Worker',
      sortValue: (t) => t.worker ?? 0,
      render: (t) => (t.worker === undefined ? "—" : `${t.worker} (pid ${t.pid ?? "?"})`),
      numeric: true,
      secondary: true,
      shown: () => this.tunnels.some((t) => t.worker !== undefined),
    },
    { id: 'since', label: 'Connected', sortValue: (t) => -t.connectedAt, render: (t) => formatDuration(this.now - t.connectedAt), numeric: true },
    { id: 'rtt', label: 'RTT', sortValue: (t) => t.rttMs ?? -1, render: (t) => formatRtt(t.rttMs), numeric: true, secondary: true },
    { id: 'streams', label: 'Streams', sortValue: (t) => t.streams, render: (t) => t.streams, numeric: true },
    { id: 'down', label: '↓ Down', sortValue: (t) => t.bytesDown, render: (t) => formatBytes(t.bytesDown), numeric: true },
    { id: 'up', label: '↑ Up', sortValue: (t) => t.bytesUp, render: (t) => formatBytes(t.bytesUp), numeric: true },
    { id: 'rate-down', label: '↓ Rate', sortValue: (t) => t.rateDown, render: (t) => formatRate(t.rateDown), numeric: true, secondary: true },
    { id: 'rate-up', label: '↑ Rate', sortValue: (t) => t.rateUp, render: (t) => formatRate(t.rateUp), numeric: true, secondary: true },
  ];
  private readonly table = new TableController(this, {
    columns: this.columns,
    sort: { column: 'id', descending: false },
    filter: () => this.filter,
    matching: () => (this.filter.trim() === '' ? this.tunnels.slice() : this.matchingTunnels()),
  });

  constructor() {
    super();
    this.tunnels = [];
    this.streams = [];
    this.filter = '';
    this.now = Date.now();
  }

  private matchingTunnels(): TunnelStatus[] {
    const names = new Map(this.tunnels.map((t) => [t.id, t.tokenName]));
    const viaStreams = new Set(this.streams.filter((s) => streamMatches(this.filter, s, names.get(s.tunnel) ?? null)).map((s) => s.tunnel));
    return this.tunnels.filter((t) => viaStreams.has(t.id) || matchesFilter(this.filter, [t.remote, t.tokenName, t.kind], t.id));
  }

  private select(id: string): void {
    this.dispatchEvent(new CustomEvent<string>('tunnel-selected', { detail: id, bubbles: true, composed: true }));
  }

  protected override render() {
    return html`<section class="card" aria-labelledby="tunnels-title">
      <header>
        <h2 id="tunnels-title">Tunnels</h2>
        <span class="count">${this.tunnels.length} connected</span>
      </header>
      ${this.table.render(this.tunnels.length === 0 ? 'No tunnel is connected.' : 'No tunnel matches the filter.')}
    </section>`;
  }
}

customElements.define('tunnels-table', TunnelsTable);

declare global {
  interface HTMLElementTagNameMap {
    'tunnels-table': TunnelsTable;
  }
}
