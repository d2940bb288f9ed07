/** The look every panel of the status page shares: a block host and a bordered, rounded card. */
import { css } from 'lit';

export const cardStyles = css`
  :host {
    display: block;
  }
  .card {
    background: var(--card, #fff);
    border: 1px solid var(--line, #e3e6ea);
    border-radius: 10px;
  }
`;
