// The lists the pages show as tables: the scrolling wrapper, the header row and the rows; and a
// list loaded from the API shown as one (its loading and error states, a line when it is empty).
import type { ComponentChildren } from 'preact';
import { listOf } from '../api.js';
import { Show } from './parts.js';
import type { Loaded } from './use-api.js';

/** A column's heading; `{ label, hideSm: true }` hides it on small screens, as its cells are (class hide-sm). */
export type Column = string | { label: string; hideSm: true };

/** `false` in `columns` leaves a column out (one shown only sometimes). */
export function DataTable(props: { testId: string; columns: Array<Column | false>; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
        <thead>
          <tr>
            {props.columns.map((c, i) =>
              c === false ? null : typeof c === 'string' ? (
                <th key={i} scope="col">
                  {c || null}
                </th>
              ) : (
                <th key={i} scope="col" class="hide-sm">
                  {c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** The list in `l`'s answer (under one of `listKeys`, see listOf) as a table, or `empty` when there is none. */
export function ListTable<T>(props: {
  l: Loaded<unknown>;
  /** What is loading, for its loading and error lines. */
  what: string;
  listKeys: string[];
  empty: ComponentChildren;
  testId: string;
  columns: Array<Column | false>;
  row: (item: T) => ComponentChildren;
}) {
  return (
    <Show l={props.l} what={props.what}>
      {(d) => {
        const list = listOf<T>(d, ...props.listKeys);
        if (list.length === 0) return <p class="muted">{props.empty}</p>;
        return (
          <DataTable testId={props.testId} columns={props.columns}>
            {list.map(props.row)}
          </DataTable>
        );
      }}
    </Show>
  );
}
