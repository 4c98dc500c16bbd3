// Small shared pieces of interface: notices, screen-reader announcements, and a
// modal form built on <dialog> (focus trapped, Escape cancels, keyboard friendly).
import { h, byId } from './dom.js';

let noticeTimer = 0;

// A short message in the notice bar; errors stay until the next message or a click.
export function notify(message, kind = 'ok') {
  const bar = byId('notice');
  bar.textContent = message;
  bar.className = `notice notice-${kind}`;
  bar.hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== 'error') noticeTimer = setTimeout(() => (bar.hidden = true), 6000);
}

export function clearNotice() {
  const bar = byId('notice');
  bar.hidden = true;
  bar.textContent = '';
}

// Read out by screen readers without moving focus (e.g. "Emergency call from ...").
export function announce(message) {
  const region = byId('announcer');
  region.textContent = '';
  // A fresh text node after a tick makes repeated identical messages be read again.
  setTimeout(() => (region.textContent = message), 50);
}

let dialogSeq = 0;

// Asks for a few values in a modal dialog. Resolves with {name: value} on submit,
// or null when cancelled. fields: [{name, label, type?, options?, value?, required?, hint?}]
export function askForm({ title, intro, fields, submitLabel = 'Save' }) {
  return new Promise((resolve) => {
    const id = `dlg-${++dialogSeq}`;
    let result = null;
    const inputs = fields.map((f) => {
      const inputId = `${id}-${f.name}`;
      let control;
      if (f.options) {
        control = h(
          'select',
          { id: inputId, name: f.name, required: f.required !== false },
          f.options.map((o) => h('option', { value: o.value, selected: o.value === f.value }, o.label)),
        );
      } else {
        control = h('input', {
          id: inputId,
          name: f.name,
          type: f.type || 'text',
          value: f.value || '',
          required: f.required !== false,
          maxlength: f.maxlength || 500,
          autocomplete: 'off',
        });
      }
      return h(
        'div',
        { class: 'field' },
        h('label', { for: inputId }, f.label),
        control,
        f.hint ? h('p', { class: 'hint' }, f.hint) : null,
      );
    });
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet' }, 'Cancel');
    const form = h(
      'form',
      { method: 'dialog', class: 'dialog-form' },
      h('h2', { id: `${id}-title` }, title),
      intro ? h('p', { class: 'dialog-intro' }, intro) : null,
      inputs,
      h('div', { class: 'dialog-actions' }, cancel, h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel)),
    );
    const dialog = h('dialog', { class: 'modal', 'aria-labelledby': `${id}-title` }, form);
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', () => {
      // method="dialog": the browser has validated the required fields and closes the dialog.
      result = Object.fromEntries(new FormData(form).entries());
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// A yes/no question in the same dialog style; resolves true or false.
export async function confirmAction({ title, intro, confirmLabel }) {
  const answer = await askForm({ title, intro, fields: [], submitLabel: confirmLabel });
  return answer !== null;
}
