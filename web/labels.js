// Plain words for the codes the API speaks, so an operator never has to decode
// "system_generated" or "callback_queue" at a glance.

export const ROLE_RANK = { operator: 1, supervisor: 2, admin: 3 };

export function roleAtLeast(role, minimum) {
  return (ROLE_RANK[role] || 0) >= (ROLE_RANK[minimum] || 99);
}

// Icon characters are decoration (aria-hidden); the label carries the meaning, so
// nothing depends on colour or symbol alone.
export const CATEGORIES = {
  emergency: { label: 'Emergency', icon: '⚠' },
  inquiry: { label: 'Inquiry', icon: '?' },
  complaint: { label: 'Complaint', icon: '✎' },
  spam: { label: 'Spam', icon: '⊘' },
  blank: { label: 'Blank (silent)', icon: '…' },
};

export const CORRECTABLE = ['emergency', 'inquiry', 'complaint', 'spam', 'blank'];

export function categoryLabel(category) {
  return CATEGORIES[category]?.label || (category ? String(category) : 'Deciding…');
}

export const DEPARTMENTS = {
  control_room: 'Control room dispatch',
  help_desk: 'Help desk',
  complaints_cell: 'Complaints cell',
  spam_filter: 'Spam filter',
  callback_queue: 'Call-back queue',
  operator_review: 'Operator review',
};

export function departmentLabel(id) {
  return id ? DEPARTMENTS[id] || String(id) : '—';
}

// The four flags of a call record, and which reasons explain each one (a reason's
// "flag" field names the flag it raised).
export const FLAGS = {
  spam_listed: { label: 'Spam-listed', reasons: ['spam_listed'] },
  spoofed: { label: 'Spoofed caller ID', reasons: ['spoofed'] },
  system_generated: { label: 'Machine / robocall', reasons: ['system_generated'] },
  blank: { label: 'Blank call', reasons: ['blank'] },
};

export const STATUS = {
  'in-progress': 'On the line',
  ringing: 'Ringing',
  queued: 'Queued',
  completed: 'Ended',
  rejected: 'Rejected',
  busy: 'Busy',
  failed: 'Failed',
  'no-answer': 'No answer',
  canceled: 'Cancelled',
};

export const ACTIONS = {
  dialed: 'Forwarded',
  hung_up: 'Hung up',
  rejected: 'Rejected before answer',
  held: 'Held for an operator',
};
