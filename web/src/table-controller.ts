/**
 * The sort order and the page of one table, as a ReactiveController: its host element only
 * says which rows match its filter; before each render the controller sorts them and keeps
 * one page of them, and it re-renders the host when a header or pager button is pressed.
 */
import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { nextSort, PAGE_SIZE, renderPager, renderTable, sortRows, type Column, type SortState } from './table-view.js';

export interface TableOptions<T> {
  columns: readonly Column<T>[];
  /** The order before any header is clicked. */
  sort: SortState;
  /** The host's filter text: a new one goes back to the first page. */
  filter: () => string;
  /** The rows that match the filter, in an array of their own (it is sorted in place). */
  matching: () => T[];
}

export class TableController<T extends { id: string | number }> implements ReactiveController {
  sort: SortState;
  /** The page shown, from 0. */
  page = 0;
  /** How many rows matched the filter, on all pages. */
  matching = 0;
  private pageCount = 1;
  /** The rows of the page shown, in order. */
  private visible: readonly T[] = [];
  private lastFilter: string | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: TableOptions<T>,
  ) {
    this.sort = options.sort;
    host.addController(this);
  }

  /** Runs after the host's willUpdate, before its render: a page that no longer exists becomes the last. */
  hostUpdate(): void {
    const filter = this.options.filter();
    if (filter !== this.lastFilter) this.page = 0;
    this.lastFilter = filter;
    const matching = sortRows(this.options.matching(), this.options.columns, this.sort);
    this.matching = matching.length;
    this.pageCount = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
    if (this.page >= this.pageCount) this.page = this.pageCount - 1;
    this.visible = matching.slice(this.page * PAGE_SIZE, (this.page + 1) * PAGE_SIZE);
  }

  /**
   * The page's rows under a header whose buttons sort, then the pager; `emptyText` instead
   * when no row matches. `rowClass` marks rows, e.g. streams opened in the last second.
   */
  render(emptyText: string, rowClass?: (row: T) => string): TemplateResult {
    return html`${this.matching === 0
      ? html`<div class="empty">${emptyText}</div>`
      : renderTable(this.options.columns.filter((column) => column.shown?.() ?? true), this.visible, this.sort, (column) => this.sortBy(column), rowClass)}
    ${renderPager(this.page, this.pageCount, this.matching, (page) => this.showPage(page))}`;
  }

  private sortBy(column: Column<T>): void {
    this.sort = nextSort(this.sort, column);
    this.host.requestUpdate();
  }

  private showPage(page: number): void {
    this.page = page;
    this.host.requestUpdate();
  }
}
