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

/**
 * matrixTable replaces table's head and body with a confusion matrix (rows: the true digit,
 * columns: the predicted one). axes names the two for screen readers, in the corner cell;
 * cell(td, count, t, p) fills the data cell of true digit t and prediction p.
 */
export function matrixTable(table, axes, matrix, cell) {
  const corner = document.createElement('th');
  corner.innerHTML = '<span class="visually-hidden"></span>';
  corner.firstChild.textContent = axes;
  columnHeads(table, matrix.map((_, p) => p), corner);
  const body = table.tBodies[0];
  body.replaceChildren();
  matrix.forEach((row, t) => {
    const tr = body.insertRow();
    tr.append(headerCell(String(t), 'row'));
    row.forEach((count, p) => cell(tr.insertCell(), count, t, p));
  });
}
