// spoofex dashboard: log-in, hash routes (#/board, #/spam, #/stats, #/users),
// role-based visibility and the live feed. Plain ES modules, no build step; the
// server's Content-Security-Policy allows only scripts and styles from this origin.
import { byId, fill } from './dom.js';
import { api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { roleAtLeast } from './labels.js';
import { LiveFeed } from './live.js';
import { clearNotice, notify } from './ui.js';
import { initBoard, startBoard, stopBoard, reloadCalls, upsertCall } from './board.js';
import { initSpam, showSpam, stopSpam } from './spam.js';
import { initStats, showStats, stopStats } from './stats.js';
import { initUsers, showUsers, stopUsers } from './users.js';

// Each route: the role it needs and what to do when it is shown.
const ROUTES = {
  board: { minRole: 'operator', show: () => {} },
  spam: { minRole: 'supervisor', show: (me) => showSpam(me) },
  stats: { minRole: 'supervisor', show: () => showStats() },
  users: { minRole: 'admin', show: () => showUsers() },
};

let me = null; // {username, role, csrf_token} while logged in

const feed = new LiveFeed({
  onCall: upsertCall,
  onState: showFeedState,
  onReconnected: () => reloadCalls().catch((e) => notify(e.message, 'error')),
  checkSession: async () => {
    try {
      await api.me();
      return true;
    } catch (e) {
      return e.status !== 401; // 401 has already sent us to the log-in form
    }
  },
});

function showFeedState(stateName) {
  const indicator = byId('live-status');
  const words = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline – retrying',
  };
  indicator.dataset.state = stateName;
  byId('live-text').textContent = words[stateName] || stateName;
  indicator.title =
    stateName === 'live'
      ? 'The board updates by itself as calls arrive.'
      : 'The live feed is down; the board may be out of date until it reconnects.';
}

// ---- session ------------------------------------------------------------------------

async function boot() {
  setUnauthorizedHandler(() => {
    if (me) leave('Your session has ended. Please log in again.');
  });
  byId('login-form').addEventListener('submit', onLogin);
  byId('logout').addEventListener('click', onLogout);
  window.addEventListener('hashchange', () => route(true));
  initBoard();
  initSpam();
  initStats();
  initUsers();
  try {
    enter(await api.me());
  } catch (e) {
    showLogin(e.status === 401 ? '' : e.message);
  }
}

function showLogin(message) {
  document.body.dataset.page = 'login';
  byId('topbar').hidden = true;
  for (const view of document.querySelectorAll('[data-view]')) view.hidden = true;
  byId('view-login').hidden = false;
  fill(byId('login-error'), message || '');
  byId('login-username').focus();
}

async function onLogin(event) {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  fill(byId('login-error'));
  try {
    const session = await api.login(form.elements.username.value.trim(), form.elements.password.value);
    form.reset();
    enter(session, true);
  } catch (e) {
    fill(byId('login-error'), e.status === 401 ? 'Wrong user name or password.' : e.message);
    form.elements.password.select();
  } finally {
    button.disabled = false;
  }
}

// fromLogin: focus moves from the (now hidden) form to the page's heading, so the
// keyboard starts at the top of the board rather than nowhere.
function enter(session, fromLogin = false) {
  me = session;
  setCsrfToken(session.csrf_token);
  document.body.dataset.page = 'app';
  byId('view-login').hidden = true;
  byId('topbar').hidden = false;
  byId('who-name').textContent = session.username;
  byId('who-role').textContent = session.role;
  // Hide what this role cannot use; the server refuses it anyway (403).
  for (const el of document.querySelectorAll('[data-min-role]')) {
    el.hidden = !roleAtLeast(session.role, el.dataset.minRole);
  }
  startBoard(session);
  reloadCalls().catch((e) => notify(e.message, 'error'));
  feed.start();
  route(fromLogin);
}

async function onLogout() {
  try {
    await api.logout();
  } catch {
    // Logging out locally matters more than the server's answer.
  }
  leave('You have logged out.');
}

function leave(message) {
  me = null;
  feed.stop();
  setCsrfToken('');
  // Call data must not linger on a shared control-room screen.
  stopBoard();
  stopSpam();
  stopStats();
  stopUsers();
  clearNotice();
  showLogin(message);
}

// ---- routing ------------------------------------------------------------------------

function currentRoute() {
  const name = (window.location.hash.match(/^#\/(\w+)/) || [])[1];
  return ROUTES[name] ? name : 'board';
}

function route(moveFocus) {
  if (!me) return;
  let name = currentRoute();
  if (!roleAtLeast(me.role, ROUTES[name].minRole)) {
    notify('That page needs a higher role.', 'error');
    name = 'board';
    history.replaceState(null, '', '#/board');
  }
  for (const view of document.querySelectorAll('[data-view]')) view.hidden = view.dataset.view !== name;
  for (const link of document.querySelectorAll('.tabs a')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (name !== 'stats') stopStats(); // charts redraw from fresh figures on each visit
  ROUTES[name].show(me);
  // After a tab change, put keyboard and screen-reader focus on the new page's heading.
  if (moveFocus) document.querySelector(`[data-view="${name}"] h2`)?.focus();
}

boot();
