/** The look every panel of the status page shares: a block host, a bordered, rounded card and its title. */
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
  h2 {
    margin: 0;
    font-size: 15px;
    font-weight: 600;
  }
`;
