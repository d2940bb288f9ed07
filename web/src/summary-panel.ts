/** <summary-panel>: the relay at a glance — uptime, tunnels, streams, bytes, throughput, errors. */
import { css, html, LitElement, nothing, type PropertyDeclarations } from 'lit';
import type { StatusTotals } from '../../server/status/snapshot.js';
import { cardStyles } from './card-styles.js';
import { formatBytes, formatDuration, formatRate } from './format.js';

const TOP_ERRORS = 3;

export class SummaryPanel extends LitElement {
  static override properties: PropertyDeclarations = {
    totals: { attribute: false },
    uptimeMs: { type: Number },
  };

  static override styles = [
    cardStyles,
    css`
      .cards {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        gap: 12px;
      }
      .card {
        padding: 12px 14px;
        min-width: 0;
      }
      .label {
        font-size: 12px;
        color: var(--muted, #667085);
        margin-bottom: 4px;
      }
      .value {
        font-size: 22px;
        font-weight: 600;
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .pair {
        font-size: 16px;
        line-height: 1.45;
      }
      .note {
        font-size: 12px;
        color: var(--muted, #667085);
        margin-top: 2px;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .up {
        color: var(--up, #16a34a);
      }
      .down {
        color: var(--down, #2563eb);
      }
      .bad {
        color: var(--bad, #b42318);
      }
      @media (max-width: 640px) {
        .cards {
          grid-template-columns: repeat(2, minmax(0, 1fr));
          gap: 8px;
        }
        .value {
          font-size: 19px;
        }
        .pair {
          font-size: 14px;
        }
      }
  `,
  ];

  declare totals: StatusTotals | null;
  declare uptimeMs: number;

  constructor() {
    super();
    this.totals = null;
    this.uptimeMs = 0;
  }

  protected override render() {
    const t = this.totals;
    if (!t) return nothing;
    const errors = Object.entries(t.errors).sort((a, b) => b[1] - a[1]);
    const errorCount = errors.reduce((sum, [, count]) => sum + count, 0);
    return html`<div class="cards">
      ${card('Uptime', formatDuration(this.uptimeMs), 'uptime')}
      ${card('Tunnels', String(t.tunnels), 'tunnels', `${t.tunnelsOpened} since start`)}
      ${card('Open streams', String(t.streams), 'streams', `${t.streamsOpened} since start`)}
      <div class="card" data-metric="bytes">
        <div class="label">Transferred</div>
        <div class="value pair"><span class="down">↓ ${formatBytes(t.bytesDown)}</span><br /><span class="up">↑ ${formatBytes(t.bytesUp)}</span></div>
      </div>
      <div class="card" data-metric="throughput">
        <div class="label">Throughput now</div>
        <div class="value pair"><span class="down">↓ ${formatRate(t.rateDown)}</span><br /><span class="up">↑ ${formatRate(t.rateUp)}</span></div>
      </div>
      <div class="card" data-metric="errors" title=${errors.map(([reason, count]) => `${reason}: ${count}`).join('\n')}>
        <div class="label">Errors</div>
        <div class="value ${errorCount > 0 ? 'bad' : ''}">${errorCount}</div>
        <div class="note">${errors.length === 0 ? 'none' : errors.slice(0, TOP_ERRORS).map(([reason, count]) => `${reason} ${count}`).join(' · ')}</div>
      </div>
    </div>`;
  }
}

function card(label: string, value: string, metric: string, note?: string) {
  return html`<div class="card" data-metric=${metric}>
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    ${note ? html`<div class="note">${note}</div>` : nothing}
  </div>`;
}

customElements.define('summary-panel', SummaryPanel);

declare global {
  interface HTMLElementTagNameMap {
    'summary-panel': SummaryPanel;
  }
}
