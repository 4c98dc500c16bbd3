// The users page (admin only): who may log in, and with which role.
import { h, fill, byId, dateTime } from './dom.js';
import { api } from './api.js';
import { notify } from './ui.js';

export function initUsers() {
  byId('user-add').addEventListener('submit', onAdd);
}

export async function showUsers() {
  try {
    const { users } = await api.users();
    fill(
      byId('user-rows'),
      (users || []).map((u) =>
        h(
          'tr',
          {},
          h('td', {}, u.username),
          h('td', {}, h('span', { class: `role role-${u.role}` }, u.role)),
          h('td', {}, h('time', { datetime: u.created_at || '' }, dateTime(u.created_at))),
        ),
      ),
    );
  } catch (e) {
    notify(e.message, 'error');
  }
}

export function stopUsers() {
  fill(byId('user-rows'));
}

async function onAdd(event) {
  event.preventDefault();
  const form = event.target;
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  const role = form.elements.role.value;
  try {
    await api.userAdd(username, password, role);
    notify(`User ${username} added as ${role}.`);
    form.reset();
    showUsers();
  } catch (e) {
    notify(e.message, 'error');
  }
}
