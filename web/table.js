// Header cells for the panels' tables. Each one carries its scope, so that a screen reader reads
// a data cell with the names of its row and its column.

/** headerCell makes a <th> naming a row or a column (scope: 'row' or 'col'). */
export function headerCell(text, scope) {
  const th = document.createElement('th');
  th.scope = scope;
  th.textContent = text;
  return th;
}

/**
 * columnHeads replaces table's head with one row: corner (a cell above the row names) if there
 * is one, then a column heading for each of labels.
 */
export function columnHeads(table, labels, corner = null) {
  const head = table.tHead;
  head.replaceChildren();
  const hr = head.insertRow();
  if (corner) hr.append(corner);
  for (const label of labels) hr.append(headerCell(String(label), 'col'));
}
