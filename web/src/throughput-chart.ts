/** <throughput-chart>: relay-wide throughput over the last five minutes, as plain SVG. */
import { css, html, LitElement, svg, type PropertyDeclarations } from 'lit';
import type { ThroughputSample } from '../../server/status/snapshot.js';
import { cardStyles } from './card-styles.js';
import { formatRate } from './format.js';

const WINDOW_MS = 5 * 60 * 1000;
const WIDTH = 600;
const HEIGHT = 140;
const GRID_LINES = [0.25, 0.5, 0.75];
/** The y axis never goes below this, so an idle relay shows a flat line, not noise blown up. */
const MIN_SCALE = 1024;

export class ThroughputChart extends LitElement {
  static override properties: PropertyDeclarations = {
    samples: { attribute: false },
  };

  static override styles = [
    cardStyles,
    css`
      .card {
        padding: 12px 16px 10px;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        justify-content: space-between;
        gap: 4px 16px;
        margin-bottom: 8px;
      }
      .legend {
        display: flex;
        gap: 14px;
        font-size: 12px;
        color: var(--muted, #667085);
        font-variant-numeric: tabular-nums;
      }
      .swatch {
        display: inline-block;
        width: 10px;
        height: 10px;
        border-radius: 2px;
        margin-right: 5px;
        vertical-align: -1px;
      }
      .swatch.down {
        background: var(--down, #2563eb);
      }
      .swatch.up {
        background: var(--up, #16a34a);
      }
      .plot {
        position: relative;
      }
      svg {
        display: block;
        width: 100%;
        height: 140px;
      }
      .grid {
        stroke: var(--line-soft, #eef0f3);
        stroke-width: 1;
      }
      .down-area {
        fill: var(--down-fill, rgba(37, 99, 235, 0.12));
      }
      .down-line {
        fill: none;
        stroke: var(--down, #2563eb);
        stroke-width: 1.5;
      }
      .up-line {
        fill: none;
        stroke: var(--up, #16a34a);
        stroke-width: 1.5;
      }
      .max {
        position: absolute;
        top: 0;
        left: 0;
        font-size: 11px;
        color: var(--muted, #667085);
        background: var(--card, #fff);
        padding-right: 4px;
      }
      .axis {
        display: flex;
        justify-content: space-between;
        font-size: 11px;
        color: var(--muted, #667085);
        margin-top: 4px;
      }
  `,
  ];

  /** One sample a second, oldest first (the snapshot's throughput ring). */
  declare samples: ThroughputSample[];

  constructor() {
    super();
    this.samples = [];
  }

  protected override render() {
    const last = this.samples.at(-1);
    const end = last?.t ?? Date.now();
    const peak = Math.max(MIN_SCALE, ...this.samples.map((s) => Math.max(s.up, s.down)));
    const scale = niceCeiling(peak);
    const x = (t: number): number => WIDTH * (1 - (end - t) / WINDOW_MS);
    const y = (rate: number): number => HEIGHT - (rate / scale) * HEIGHT;
    const line = (pick: (s: ThroughputSample) => number): string =>
      this.samples.map((s, i) => `${i === 0 ? 'M' : 'L'}${x(s.t).toFixed(1)},${y(pick(s)).toFixed(1)}`).join('');
    const downLine = line((s) => s.down);
    const first = this.samples[0];
    const downArea = first && last ? `${downLine}L${x(last.t).toFixed(1)},${HEIGHT}L${x(first.t).toFixed(1)},${HEIGHT}Z` : '';
    return html`<section class="card" aria-labelledby="chart-title">
      <header>
        <h2 id="chart-title">Throughput, last 5 minutes</h2>
        <div class="legend">
          <span><span class="swatch down"></span>↓ down ${formatRate(last?.down ?? 0)}</span>
          <span><span class="swatch up"></span>↑ up ${formatRate(last?.up ?? 0)}</span>
        </div>
      </header>
      <div class="plot">
        <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="throughput chart">
          ${GRID_LINES.map((f) => svg`<line class="grid" x1="0" x2=${WIDTH} y1=${HEIGHT * f} y2=${HEIGHT * f} vector-effect="non-scaling-stroke"></line>`)}
          <path class="down-area" d=${downArea}></path>
          <path class="down-line" d=${downLine} vector-effect="non-scaling-stroke"></path>
          <path class="up-line" d=${line((s) => s.up)} vector-effect="non-scaling-stroke"></path>
        </svg>
        <span class="max">${formatRate(scale)}</span>
      </div>
      <div class="axis"><span>5 min ago</span><span>now</span></div>
    </section>`;
  }
}

/** The least of 1, 1.25, 1.5 or 2 times a power of two that is at least `value`, so the scale label reads cleanly. */
function niceCeiling(value: number): number {
  const magnitude = 2 ** Math.floor(Math.log2(value));
  for (const step of [1, 1.25, 1.5, 2]) if (magnitude * step >= value) return magnitude * step;
  return magnitude * 2;
}

customElements.define('throughput-chart', ThroughputChart);

declare global {
  interface HTMLElementTagNameMap {
    'throughput-chart': ThroughputChart;
  }
}
