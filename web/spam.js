// The spam list page (supervisor and above): search, add with a reason, remove,
// import a CSV file, export. Every change is audited by the server.
import { h, fill, byId, dateTime } from './dom.js';
import { api } from './api.js';
import { roleAtLeast } from './labels.js';
import { notify, confirmAction } from './ui.js';

let session = null;
let searchTimer = 0;
let loadSeq = 0; // answers to older searches that arrive late are ignored

export function initSpam() {
  byId('spam-q').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(load, 250);
  });
  byId('spam-search').addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  byId('spam-add').addEventListener('submit', onAdd);
  byId('spam-import').addEventListener('submit', onImport);
}

export function showSpam(s) {
  session = s;
  load();
}

export function stopSpam() {
  session = null;
  fill(byId('spam-rows'));
  fill(byId('spam-count'));
  fill(byId('import-result'));
}

async function load() {
  if (!session) return;
  const seq = ++loadSeq;
  const q = byId('spam-q').value.trim();
  try {
    const { numbers } = await api.spamList(q);
    if (seq !== loadSeq) return;
    renderRows(numbers || [], q);
  } catch (e) {
    if (seq === loadSeq) notify(e.message, 'error');
  }
}

function renderRows(numbers, q) {
  const canRemove = roleAtLeast(session?.role, 'supervisor');
  fill(
    byId('spam-count'),
    numbers.length === 0
      ? q
        ? 'No numbers match your search.'
        : 'The spam list is empty.'
      : `${numbers.length} ${numbers.length === 1 ? 'number' : 'numbers'}${q ? ' match your search' : ' on the list'}.`,
  );
  fill(
    byId('spam-rows'),
    numbers.map((n) =>
      h(
        'tr',
        {},
        h('td', { class: 'mono' }, n.e164),
        h('td', { class: 'reason-cell' }, n.reason || '—'),
        h('td', {}, n.added_by || '—'),
        h('td', {}, h('time', { datetime: n.added_at || '' }, dateTime(n.added_at))),
        h(
          'td',
          { class: 'cell-actions' },
          canRemove
            ? h(
                'button',
                { type: 'button', class: 'btn btn-danger', 'aria-label': `Remove ${n.e164} from the spam list`, onclick: () => onRemove(n.e164) },
                'Remove',
              )
            : null,
        ),
      ),
    ),
  );
}

async function onAdd(event) {
  event.preventDefault();
  const form = event.target;
  const number = form.elements.number.value.trim();
  const reason = form.elements.reason.value.trim();
  try {
    const res = await api.spamAdd(number, reason);
    notify(res.added === false ? `${res.e164} was already on the spam list.` : `${res.e164} added to the spam list.`);
    form.reset();
    form.elements.number.focus();
    load();
  } catch (e) {
    notify(e.message, 'error');
  }
}

async function onRemove(e164) {
  const ok = await confirmAction({
    title: 'Remove from spam list',
    intro: `Calls from ${e164} will be answered and screened again.`,
    confirmLabel: 'Remove',
  });
  if (!ok) return;
  try {
    const res = await api.spamRemove(e164);
    notify(res.removed === false ? `${e164} was not on the list.` : `${e164} removed from the spam list.`);
    load();
  } catch (e) {
    notify(e.message, 'error');
  }
}

async function onImport(event) {
  event.preventDefault();
  const file = byId('spam-file').files[0];
  const out = byId('import-result');
  if (!file) {
    notify('Choose a CSV file to import first.', 'error');
    return;
  }
  try {
    const res = await api.spamImport(await file.text());
    const problems = res.problems || [];
    fill(
      out,
      h('p', {}, `Imported ${res.added ?? 0} ${res.added === 1 ? 'number' : 'numbers'} from ${file.name}.`),
      problems.length
        ? h(
            'div',
            {},
            h('p', {}, `${problems.length} ${problems.length === 1 ? 'line was' : 'lines were'} skipped:`),
            h('ul', { class: 'problems' }, problems.map((p) => h('li', {}, `Line ${p.line}: ${p.error}`))),
          )
        : null,
    );
    event.target.reset();
    load();
  } catch (e) {
    notify(e.message, 'error');
  }
}
