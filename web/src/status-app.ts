/**
 * <status-app>: the relay's status page. Owns the live connection (StatusController) and
 * the filter box; everything below it is presentational and gets data as properties.
 * Every name on this page comes from users (destinations, token names): it is rendered
 * through Lit's text bindings, which escape it; nothing here uses unsafeHTML.
 */
import { css, html, LitElement, nothing, type PropertyDeclarations } from 'lit';
import { formatDuration } from './format.js';
import { StatusController } from './status-controller.js';
import './summary-panel.js';
import './throughput-chart.js';
import './tunnels-table.js';
import './streams-table.js';

export class StatusApp extends LitElement {
  static override properties: PropertyDeclarations = {
    filter: { state: true },
  };

  static override styles = css`
    :host {
      display: block;
      max-width: 1280px;
      margin: 0 auto;
      padding: 16px 20px 40px;
      box-sizing: border-box;
    }
    .top {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 8px 16px;
      margin-bottom: 14px;
    }
    h1 {
      margin: 0;
      font-size: 19px;
      font-weight: 650;
      letter-spacing: -0.01em;
    }
    h1 .version {
      font-size: 12px;
      font-weight: 500;
      color: var(--muted, #667085);
      margin-left: 6px;
    }
    .conn {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      font-size: 13px;
      color: var(--muted, #667085);
    }
    .dot {
      width: 8px;
      height: 8px;
      border-radius: 50%;
      background: var(--warn, #d97706);
    }
    .dot.live {
      background: var(--ok-dot, #16a34a);
      box-shadow: 0 0 0 3px var(--ok-bg, #dcfce7);
    }
    .banner {
      margin-bottom: 14px;
      padding: 10px 14px;
      border-radius: 10px;
      background: var(--warn-bg, #fef3c7);
      color: var(--warn, #92400e);
      border: 1px solid var(--warn-line, #fcd34d);
      font-size: 14px;
    }
    .stack {
      display: grid;
      grid-template-columns: minmax(0, 1fr); /* wide tables scroll inside their card, never the page */
      gap: 14px;
    }
    .filter {
      display: flex;
      gap: 8px;
      align-items: center;
    }
    input[type='search'] {
      flex: 1;
      font: inherit;
      font-size: 14px;
      padding: 9px 12px;
      border: 1px solid var(--line, #e3e6ea);
      border-radius: 8px;
      background: var(--card, #fff);
      color: var(--text, #1d2939);
      min-width: 0;
    }
    input[type='search']:focus {
      outline: 2px solid var(--accent, #2563eb);
      outline-offset: -1px;
    }
    .loading {
      color: var(--muted, #667085);
      padding: 40px 0;
      text-align: center;
    }
    @media (max-width: 640px) {
      :host {
        padding: 12px 10px 32px;
      }
      .stack {
        gap: 10px;
      }
    }
  `;

  /** The filter box's text, handed to both tables. */
  declare filter: string;

  private readonly status = new StatusController(this);

  constructor() {
    super();
    this.filter = '';
  }

  protected override render() {
    const { snapshot, connection, receivedAt } = this.status;
    const live = connection === 'live';
    return html`
      <div class="top">
        <h1>sockbridge relay${snapshot ? html`<span class="version">v${snapshot.version}</span>` : nothing}</h1>
        <span class="conn" role="status" aria-live="polite"
          ><span class="dot ${live ? 'live' : ''}"></span>${live ? 'live' : connection === 'connecting' ? 'connecting…' : 'reconnecting…'}</span
        >
      </div>
      ${connection === 'reconnecting'
        ? html`<div class="banner" role="alert" data-banner="reconnecting">
            Reconnecting to the relay… the figures below are from ${formatDuration(Date.now() - receivedAt)} ago.
          </div>`
        : nothing}
      ${snapshot ? this.renderStatus() : html`<div class="loading">Connecting to the relay…</div>`}
    `;
  }

  private renderStatus() {
    const snapshot = this.status.snapshot!;
    const tokenNames = new Map(snapshot.tunnels.map((t) => [t.id, t.tokenName]));
    return html`<div class="stack">
      <summary-panel .totals=${snapshot.totals} .uptimeMs=${snapshot.uptimeMs}></summary-panel>
      <throughput-chart .samples=${snapshot.throughput}></throughput-chart>
      <div class="filter">
        <input
          type="search"
          placeholder="Filter by destination, kind, token or #tunnel"
          aria-label="Filter tunnels and streams"
          .value=${this.filter}
          @input=${(event: Event) => (this.filter = (event.target as HTMLInputElement).value)}
        />
      </div>
      <tunnels-table
        .tunnels=${snapshot.tunnels}
        .streams=${snapshot.streams}
        .now=${snapshot.now}
        .filter=${this.filter}
        @tunnel-selected=${(event: CustomEvent<string>) => (this.filter = `#${event.detail}`)}
      ></tunnels-table>
      <streams-table .streams=${snapshot.streams} .tokenNames=${tokenNames} .filter=${this.filter}></streams-table>
    </div>`;
  }
}

customElements.define('status-app', StatusApp);

declare global {
  interface HTMLElementTagNameMap {
    'status-app': StatusApp;
  }
}
