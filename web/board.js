// The live call board: every call as a card, updated in place from the live feed.
// Order (design.md, safety rule 1: emergencies must not be missed): unhandled
// emergencies first, then other unhandled calls, then handled ones; newest first
// within each group.
import { h, fill, byId, clockTime, percent } from './dom.js';
import { api } from './api.js';
import {
  CATEGORIES,
  CORRECTABLE,
  FLAGS,
  STATUS,
  ACTIONS,
  categoryLabel,
  departmentLabel,
  roleAtLeast,
} from './labels.js';
import { askForm, notify, announce } from './ui.js';

const MAX_CALLS = 300; // kept in memory; older handled calls drop off the board

const state = {
  session: null, // {username, role}
  calls: new Map(), // call_sid -> call record
  cards: new Map(), // call_sid -> {el, key}: the rendered card and what it was built from
  openReasons: new Set(), // call_sids whose "Why" details the operator opened
  announced: new Set(), // call_sids already announced as emergencies
  spamAdded: new Set(), // numbers this operator put on the spam list in this session
  arrived: new Set(), // call_sids new since the last render: they get the arrival highlight
  hideHandled: false,
};

export function effectiveCategory(call) {
  return call.corrected_category || call.category || null;
}

// Signs of an emergency before the pipeline has decided (safety rule 1): the
// classifier already leans that way, or the caller pressed 1 or the silent key 55.
function possibleEmergency(call) {
  if (effectiveCategory(call)) return false;
  const digits = call.digits || '';
  return call.prediction?.category === 'emergency' || digits.startsWith('1') || digits.startsWith('55');
}

function isEmergency(call) {
  return effectiveCategory(call) === 'emergency' || possibleEmergency(call);
}

function corrected(call) {
  return Boolean(call.corrected_category) && call.corrected_category !== call.category;
}

function rank(call) {
  if (call.handled) return 2;
  return isEmergency(call) ? 0 : 1;
}

function startedMs(call) {
  const t = Date.parse(call.started_at);
  return Number.isNaN(t) ? 0 : t;
}

function byBoardOrder(a, b) {
  return rank(a) - rank(b) || startedMs(b) - startedMs(a);
}

// The server counts each stored change of a call (`revision`); a snapshot from
// /api/calls can be older than an event that overtook it, and must not undo it.
function newer(a, b) {
  if (typeof a?.revision !== 'number' || typeof b?.revision !== 'number') return true;
  return a.revision >= b.revision;
}

function callerNumber(call) {
  return call.caller?.e164 || call.from || '';
}

// Ids derived from call SIDs; SIDs are the server's, but keep ids tame regardless.
function domId(sid, part) {
  return `call-${String(sid).replace(/[^A-Za-z0-9_-]/g, '_')}-${part}`;
}

// ---- public surface -------------------------------------------------------------

export function initBoard() {
  byId('hide-handled').addEventListener('change', (e) => {
    state.hideHandled = e.target.checked;
    render();
  });
}

export function startBoard(session) {
  state.session = session;
  state.spamAdded.clear();
}

export function stopBoard() {
  state.session = null;
  state.calls.clear();
  state.cards.clear();
  state.openReasons.clear();
  state.announced.clear();
  state.arrived.clear();
  fill(byId('call-list'));
  fill(byId('board-summary'));
}

// Replaces the board's contents with a fresh /api/calls answer.
export async function reloadCalls() {
  const { calls } = await api.calls(MAX_CALLS);
  const fresh = new Map();
  for (const call of calls || []) {
    const live = state.calls.get(call.call_sid);
    fresh.set(call.call_sid, live && !newer(call, live) ? live : call);
  }
  // Calls that arrived live but fall outside the list keep their place.
  for (const [sid, call] of state.calls) if (!fresh.has(sid)) fresh.set(sid, call);
  state.calls = fresh;
  // Calls already on the board when we load are not news: don't announce them.
  for (const call of state.calls.values()) if (isEmergency(call)) state.announced.add(call.call_sid);
  trim();
  render();
}

// One call created or changed (from the live feed or after an action).
export function upsertCall(call) {
  const previous = state.calls.get(call.call_sid);
  if (previous && !newer(call, previous)) return;
  if (!previous) state.arrived.add(call.call_sid);
  // Fields the API adds only on some answers (events, handled) survive a partial update.
  state.calls.set(call.call_sid, previous ? { ...previous, ...call } : call);
  trim();
  const merged = state.calls.get(call.call_sid);
  if (merged && isEmergency(merged) && !merged.handled && !state.announced.has(call.call_sid)) {
    state.announced.add(call.call_sid);
    announce(`Emergency call from ${callerNumber(merged) || 'a withheld number'}`);
  }
  render();
}

function trim() {
  if (state.calls.size <= MAX_CALLS) return;
  const drop = [...state.calls.values()]
    .sort((a, b) => (a.handled === b.handled ? startedMs(a) - startedMs(b) : a.handled ? -1 : 1))
    .slice(0, state.calls.size - MAX_CALLS);
  for (const call of drop) state.calls.delete(call.call_sid);
}

// ---- rendering --------------------------------------------------------------------

function render() {
  if (!state.session) return;
  const list = byId('call-list');
  const focusKey = document.activeElement?.dataset?.keep;
  const all = [...state.calls.values()].sort(byBoardOrder);
  const shown = state.hideHandled ? all.filter((c) => !c.handled) : all;

  // Build or reuse one card per call; a card is rebuilt only when its call changed.
  const wanted = [];
  for (const call of shown) {
    const key = JSON.stringify(call) + state.spamAdded.has(call.caller?.e164);
    let card = state.cards.get(call.call_sid);
    if (!card || card.key !== key) {
      const old = state.cards.get(call.call_sid);
      // Only a call that just arrived live is highlighted, not every update or reload.
      const isNew = state.arrived.has(call.call_sid);
      card = { el: h('li', { class: isNew ? 'call-item is-new' : 'call-item' }, callCard(call)), key };
      if (old) old.el.replaceWith(card.el);
      state.cards.set(call.call_sid, card);
    }
    wanted.push(card.el);
  }
  for (const [sid, card] of state.cards) {
    if (!state.calls.has(sid) || (state.hideHandled && state.calls.get(sid).handled)) {
      card.el.remove();
      state.cards.delete(sid);
    }
  }
  // Move only what is out of place, so a focused button is not needlessly detached.
  wanted.forEach((el, i) => {
    if (list.children[i] !== el) list.insertBefore(el, list.children[i] || null);
  });
  while (list.children.length > wanted.length) list.lastElementChild.remove();

  state.arrived.clear();
  byId('board-empty').hidden = wanted.length > 0;
  renderSummary(all);
  if (focusKey && document.activeElement?.dataset?.keep !== focusKey) refocus(focusKey);
}

function refocus(key) {
  const el = [...document.querySelectorAll('[data-keep]')].find((e) => e.dataset.keep === key);
  if (el) el.focus();
}

function renderSummary(all) {
  const open = all.filter((c) => !c.handled);
  const emergencies = open.filter(isEmergency).length;
  const blanks = open.filter((c) => effectiveCategory(c) === 'blank').length;
  const parts = [
    h(
      'span',
      { class: emergencies ? 'sum sum-emergency' : 'sum' },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, emergencies ? '⚠' : '✓'),
      ` ${emergencies} ${emergencies === 1 ? 'emergency' : 'emergencies'} waiting`,
    ),
    h('span', { class: 'sum' }, `${blanks} silent ${blanks === 1 ? 'caller' : 'callers'} to call back`),
    h('span', { class: 'sum' }, `${open.length} unhandled of ${all.length} ${all.length === 1 ? 'call' : 'calls'}`),
  ];
  fill(byId('board-summary'), parts);
}

function callCard(call) {
  const sid = call.call_sid;
  const category = effectiveCategory(call);
  const emergency = isEmergency(call);
  const classes = ['call', `cat-${category || 'pending'}`];
  if (emergency) classes.push('is-emergency');
  if (call.handled) classes.push('is-handled');
  const titleId = domId(sid, 'title');
  return h(
    'article',
    { class: classes.join(' '), 'aria-labelledby': titleId, dataset: { callSid: sid, category: category || '' } },
    categoryColumn(call, category, emergency),
    mainColumn(call, titleId),
    decisionColumn(call),
    actionsColumn(call, category),
  );
}

function categoryColumn(call, category, emergency) {
  const info = CATEGORIES[category];
  let badge;
  if (info) {
    badge = h(
      'span',
      { class: `cat-badge cat-${category}` },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, info.icon),
      ' ',
      info.label,
    );
  } else if (emergency) {
    badge = h(
      'span',
      { class: 'cat-badge cat-emergency cat-possible' },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, '⚠'),
      ' Possible emergency',
    );
  } else {
    badge = h('span', { class: 'cat-badge cat-pending' }, 'Deciding…');
  }
  const correctedNote = corrected(call)
    ? h('span', { class: 'corrected' }, `Corrected (was ${categoryLabel(call.category)})`)
    : null;
  return h(
    'div',
    { class: 'call-cat' },
    badge,
    correctedNote,
    h('time', { class: 'call-time', datetime: call.started_at || '' }, clockTime(call.started_at)),
    h('span', { class: `call-status status-${call.status || 'unknown'}` }, STATUS[call.status] || call.status || ''),
    call.handled ? h('span', { class: 'handled-mark' }, h('span', { 'aria-hidden': 'true' }, '✓'), ' Handled') : null,
  );
}

function mainColumn(call, titleId) {
  const number = callerNumber(call);
  const caller = call.caller || {};
  const about = [caller.type && caller.type !== 'unknown' ? caller.type.replace(/_/g, ' ') : null, caller.region]
    .filter(Boolean)
    .join(' · ');
  return h(
    'div',
    { class: 'call-main' },
    h(
      'h3',
      { class: 'call-number', id: titleId },
      h('span', { class: 'visually-hidden' }, 'Call from '),
      number || 'Withheld number',
    ),
    about || caller.valid === false
      ? h(
          'p',
          { class: 'caller-info' },
          about,
          caller.valid === false ? h('span', { class: 'invalid' }, about ? ' · not a valid number' : 'Not a valid number') : null,
        )
      : null,
    flagBadges(call),
    transcriptBlock(call),
    reasonsDetails(call),
  );
}

function flagBadges(call) {
  const flags = call.flags || {};
  const reasons = call.reasons || [];
  const badges = [];
  for (const [flag, info] of Object.entries(FLAGS)) {
    if (!flags[flag]) continue;
    const why = reasons.filter((r) => info.reasons.includes(r.flag)).map((r) => r.detail);
    badges.push(
      h(
        'li',
        { class: `flag flag-${flag}`, title: why.join('\n') || info.label },
        info.label,
        // The tooltip is for the mouse; the same words are read out and shown under "Why".
        why.length ? h('span', { class: 'visually-hidden' }, `: ${why.join(' ')}`) : null,
      ),
    );
  }
  if (reasons.some((r) => r.flag === 'withheld')) {
    badges.push(h('li', { class: 'flag flag-withheld' }, 'Number withheld'));
  }
  return badges.length ? h('ul', { class: 'flags', 'aria-label': 'Flags' }, badges) : null;
}

function transcriptBlock(call) {
  const text = (call.transcript || '').trim();
  let body;
  if (text) body = h('q', { class: 'transcript-text' }, text);
  else if (call.status === 'in-progress') body = h('span', { class: 'muted' }, 'Listening…');
  else body = h('span', { class: 'muted' }, 'No words heard');
  return h('p', { class: 'transcript' }, h('span', { class: 'label' }, 'Caller said '), body);
}

function fact(label, ...value) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, ...value));
}

function decisionColumn(call) {
  const p = call.prediction;
  const digits = call.digits || '';
  let outcome = ACTIONS[call.action] || (call.action ? String(call.action) : '—');
  if (call.action === 'dialed' && call.forward_to) outcome = `Forwarded to ${call.forward_to}`;
  return h(
    'div',
    { class: 'call-decision' },
    h(
      'dl',
      { class: 'facts' },
      fact('Digit', call.digit ?? '—', digits.length > 1 ? h('span', { class: 'muted' }, ` (keys ${digits})`) : null),
      fact('Prediction', p ? `${categoryLabel(p.category)} ${percent(p.confidence)}` : '—'),
      fact('Department', departmentLabel(call.department)),
      fact('Outcome', outcome),
    ),
    // Once handled, the instructions have done their job; dropping them keeps the board short.
    call.instructions && !call.handled
      ? h(
          'p',
          { class: 'instructions' },
          h('strong', {}, 'What to do: '),
          // After a correction these are still the instructions for the original category.
          corrected(call) ? h('span', { class: 'muted' }, `(given for ${categoryLabel(call.category)}) `) : null,
          call.instructions,
        )
      : null,
  );
}

function actionsColumn(call, category) {
  const sid = call.call_sid;
  const number = callerNumber(call);
  // Only a parsed E.164 number can be dialled or spam-listed; a raw caller ID may be anything.
  const dialable = call.caller?.e164 || '';
  const session = state.session;
  const buttons = [];
  const keep = (name) => `${sid}:${name}`;

  if ((category === 'blank' || call.flags?.blank) && dialable) {
    buttons.push(
      h(
        'a',
        { class: 'btn btn-callback', href: `tel:${dialable}`, 'data-keep': keep('callback'), 'aria-label': `Call back ${dialable}` },
        h('span', { 'aria-hidden': 'true' }, '☎ '),
        'Call back',
      ),
    );
  }
  if (!call.handled) {
    buttons.push(
      h(
        'button',
        { type: 'button', class: 'btn btn-primary', 'data-keep': keep('handled'), onclick: () => markHandled(call) },
        'Mark handled',
      ),
    );
  }
  if (dialable && !call.flags?.spam_listed && !state.spamAdded.has(dialable)) {
    buttons.push(
      h(
        'button',
        { type: 'button', class: 'btn', 'data-keep': keep('spam'), onclick: () => addToSpam(call, keep('spam')) },
        'Add to spam list',
      ),
    );
  } else if (dialable && state.spamAdded.has(dialable)) {
    buttons.push(h('span', { class: 'done-note' }, 'On the spam list'));
  }
  if (roleAtLeast(session?.role, 'supervisor')) {
    buttons.push(
      h(
        'button',
        { type: 'button', class: 'btn', 'data-keep': keep('correct'), onclick: () => correctCategory(call, keep('correct')) },
        'Correct category',
      ),
    );
  }
  return h('div', { class: 'call-actions', role: 'group', 'aria-label': `Actions for ${number || 'this call'}` }, buttons);
}

function reasonsDetails(call) {
  const reasons = call.reasons || [];
  if (!reasons.length) return null;
  const sid = call.call_sid;
  const details = h(
    'details',
    { class: 'reasons', open: state.openReasons.has(sid) },
    h('summary', { 'data-keep': `${sid}:why` }, `Why: ${reasons.length} ${reasons.length === 1 ? 'reason' : 'reasons'}`),
    h('ul', {}, reasons.map((r) => h('li', { class: `reason reason-${r.flag || 'info'}` }, r.detail || r.code))),
  );
  details.addEventListener('toggle', () => {
    if (details.open) state.openReasons.add(sid);
    else state.openReasons.delete(sid);
  });
  return details;
}

// ---- actions ------------------------------------------------------------------------

async function markHandled(call) {
  try {
    await api.markHandled(call.call_sid);
    upsertCall({ ...state.calls.get(call.call_sid), handled: true });
    notify(`Call from ${callerNumber(call) || 'withheld number'} marked handled.`);
  } catch (e) {
    notify(e.message, 'error');
  }
}

async function addToSpam(call, focusKey) {
  const number = call.caller.e164;
  const answer = await askForm({
    title: 'Add to spam list',
    intro: `Future calls from ${number} will be rejected before they are answered.`,
    fields: [{ name: 'reason', label: 'Reason (kept in the audit log)', hint: 'For example: repeated prank calls' }],
    submitLabel: 'Add to spam list',
  });
  refocus(focusKey);
  if (!answer) return;
  try {
    const res = await api.spamAdd(number, answer.reason.trim());
    state.spamAdded.add(number);
    render();
    notify(res.added === false ? `${res.e164 || number} was already on the spam list.` : `${res.e164 || number} added to the spam list.`);
  } catch (e) {
    notify(e.message, 'error');
  }
}

async function correctCategory(call, focusKey) {
  const current = effectiveCategory(call);
  const answer = await askForm({
    title: 'Correct category',
    intro: `The correction is stored as training feedback for the classifier.`,
    fields: [
      {
        name: 'category',
        label: 'New category',
        options: CORRECTABLE.map((c) => ({ value: c, label: categoryLabel(c) })),
        value: current || 'emergency',
      },
    ],
    submitLabel: 'Save correction',
  });
  refocus(focusKey);
  if (!answer) return;
  try {
    await api.correctCategory(call.call_sid, answer.category);
    upsertCall({ ...state.calls.get(call.call_sid), corrected_category: answer.category });
    notify(`Category corrected to ${categoryLabel(answer.category)}.`);
  } catch (e) {
    notify(e.message, 'error');
  }
}
