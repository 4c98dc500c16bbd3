// DOM building without markup strings. Everything the API returns — transcripts,
// caller IDs, spam reasons, user names — is caller-supplied or operator-supplied, so
// it must reach the page only as text nodes; nothing in the dashboard uses
// innerHTML, insertAdjacentHTML or document.write. h() is the one way we build DOM.

// h('p', {class: 'x', 'aria-label': 'y', onclick: fn}, 'text', childNode, [more])
// Attribute values go through setAttribute (never parsed as markup); children that
// are strings or numbers become text nodes; null/undefined/false children are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== 'string') {
      el[key] = value; // properties such as checked, disabled, value
    } else {
      // Event-handler attributes from data would be script; refuse them outright.
      if (key.toLowerCase().startsWith('on')) throw new Error(`refusing attribute ${key}`);
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// Replaces an element's children (replaceChildren keeps strings as text).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const byId = (id) => document.getElementById(id);

// "2026-11-25T14:03:07.123Z" -> "14:03:07" in the control room's local time.
export function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function dateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short', hour12: false });
}

export function percent(fraction) {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction)) return '–';
  return `${Math.round(fraction * 100)}%`;
}
