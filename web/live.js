// The live feed: Server-Sent Events from /api/events, one `call` event per call
// created or changed. EventSource sends the session cookie and retries by itself
// after a dropped connection; when the server refuses outright (e.g. the session
// expired) the browser gives up, so we retry with back-off and let the caller check
// the session. After any reconnect the board re-reads /api/calls, because events
// sent while we were away are not replayed.

export class LiveFeed {
  // onCall(call), onState('connecting'|'live'|'reconnecting'|'offline'),
  // onReconnected() to fill the gap, checkSession() -> Promise<boolean>.
  constructor({ onCall, onState, onReconnected, checkSession }) {
    Object.assign(this, { onCall, onState, onReconnected, checkSession });
    this.source = null;
    this.timer = 0;
    this.failures = 0;
    this.everOpened = false;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.everOpened = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
  }

  connect() {
    if (this.stopped) return;
    this.onState(this.everOpened ? 'reconnecting' : 'connecting');
    const source = new EventSource('/api/events');
    this.source = source;
    source.addEventListener('open', () => {
      this.failures = 0;
      this.onState('live');
      if (this.everOpened) this.onReconnected();
      this.everOpened = true;
    });
    source.addEventListener('call', (event) => {
      let call;
      try {
        call = JSON.parse(event.data);
      } catch {
        return; // a malformed event is dropped; the next resync corrects the board
      }
      if (call && call.call_sid) this.onCall(call);
    });
    source.addEventListener('error', () => {
      if (this.stopped || source !== this.source) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.onState('reconnecting'); // the browser is already retrying
        return;
      }
      source.close();
      this.onState('offline');
      this.failures += 1;
      const delay = Math.min(15000, 1000 * 2 ** Math.min(this.failures - 1, 4));
      this.timer = setTimeout(async () => {
        if (this.stopped) return;
        // A 401 here hands the page back to the log-in form; no point reconnecting.
        if (await this.checkSession().catch(() => true)) this.connect();
      }, delay);
    });
  }
}
