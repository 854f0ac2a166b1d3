// The local inspector page: the requests npm start served, newest first, live over Server-Sent
// Events, and one request's raw form beside what it became. Everything a request carries is written
// with textContent, never parsed as markup: callback bodies are hostile.

const state = {
  /** @type {Map<number, any>} every request summary, by number */
  rows: new Map(),
  /** @type {number | null} */
  selected: null,
  source: '',
  answer: '',
};

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
};

/** Creates an element with text and classes. */
function element(tag, text, className) {
  const created = document.createElement(tag);
  if (text !== undefined && text !== null) created.textContent = String(text);
  if (className) created.className = className;
  return created;
}

function badge(text, kind) {
  return element('span', text, `badge ${kind}`);
}

function time(iso) {
  const date = new Date(iso);
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function labelsText(labels) {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

function statusCell(row) {
  const cell = element('td', row.done ? row.status : '…', `status s${String(row.status).charAt(0)}`);
  if (row.outcome === 'quarantined') cell.append(badge('quarantined', 'quarantined'));
  if (row.outcome === 'spooled') cell.append(badge('spooled', 'spooled'));
  if (row.outcome === 'unrouted') cell.append(badge('no route', 'unrouted'));
  if (row.duplicateOf !== null) cell.append(badge(`duplicate of #${row.duplicateOf}`, 'duplicate'));
  if (row.replays.some((replay) => replay.status === 200)) cell.append(badge('replayed', 'replayed'));
  return cell;
}

function visible(row) {
  if (state.source && (row.source ?? 'none') !== state.source) return false;
  if (state.answer && row.outcome !== state.answer) return false;
  return true;
}

function renderList() {
  const body = /** @type {HTMLTableSectionElement} */ ($('requests').querySelector('tbody'));
  const rows = [...state.rows.values()].sort((a, b) => b.seq - a.seq).filter(visible);
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = element('tr');
      tr.dataset.seq = String(row.seq);
      tr.dataset.outcome = row.outcome;
      tr.dataset.done = String(row.done);
      if (row.eventId) tr.dataset.eventId = row.eventId;
      if (row.duplicateOf !== null) tr.dataset.duplicateOf = String(row.duplicateOf);
      if (row.seq === state.selected) tr.classList.add('selected');
      const route = element('td', `${row.method} ${row.path}`, 'mono');
      if (row.source) route.append(badge(row.source, 'source'));
      if (row.resentFrom !== null) route.append(badge(`resent #${row.resentFrom}`, 'resent'));
      const what = row.type ? `${row.type} · ${row.subject ?? ''}` : (row.error ?? '');
      const id = element('td', row.eventId ? `${row.eventId.slice(0, 12)}…` : '', 'mono');
      if (row.eventId) id.title = row.eventId;
      tr.append(
        element('td', row.seq),
        element('td', time(row.receivedAt), 'mono'),
        statusCell(row),
        route,
        element('td', labelsText(row.labels), 'mono'),
        element('td', what),
        id,
        element('td', row.done ? row.ms : ''),
      );
      tr.addEventListener('click', () => select(row.seq));
      return tr;
    }),
  );
  $('empty').hidden = state.rows.size > 0;
  const sources = new Set([...state.rows.values()].map((row) => row.source ?? 'none'));
  const filter = /** @type {HTMLSelectElement} */ ($('filter-source'));
  for (const source of [...sources].sort()) {
    if (![...filter.options].some((option) => option.value === source)) filter.append(new Option(source, source));
  }
}

function upsert(row) {
  const known = state.rows.get(row.seq);
  // The stream may bring a request's arrival after its answer: keep the newer view.
  if (known?.done && !row.done) return;
  state.rows.set(row.seq, row);
}

async function call(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error ?? `answered ${response.status}`);
  return answer;
}

function say(text, isError = false) {
  const output = $('message');
  output.textContent = text;
  output.className = isError ? 'error' : '';
}

function suggestedName(row) {
  const tail = row.outcome === 'event' || row.outcome === 'spooled' ? (row.type ?? 'event').split('.').slice(1).join('-') : 'invalid';
  return `${row.source ?? 'sample'}-${tail}-${row.seq}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

function pretty(text) {
  if (text === null || text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function table(id, pairs) {
  $(id).replaceChildren(
    ...pairs.map(([name, value]) => {
      const tr = element('tr');
      tr.append(element('td', name), element('td', value, 'mono'));
      return tr;
    }),
  );
}

function whyOf(detail) {
  const record = detail.quarantine ? JSON.parse(detail.quarantine) : undefined;
  const answer = (() => {
    try {
      return JSON.parse(detail.answer);
    } catch {
      return {};
    }
  })();
  const source = record ?? answer;
  const lines = [`${detail.status} ${source.error ?? ''}`];
  for (const issue of source.issues ?? []) lines.push(`  ${issue}`);
  return lines.join('\n');
}

async function showDetail(seq) {
  const detail = await call(`/_inspector/requests/${seq}`);
  if (state.selected !== seq) return;
  $('detail').hidden = false;
  $('detail').dataset.seq = String(seq);
  $('detail').dataset.outcome = detail.outcome;
  $('detail-title').textContent = `#${seq} ${detail.method} ${detail.path} → ${detail.done ? detail.status : '…'}`;
  $('request-line').textContent = `${detail.method} ${detail.path}${detail.query ? `?${detail.query}` : ''}`;
  table(
    'request-headers',
    detail.headers.map(([name, value]) => [name, value]),
  );
  $('request-body').textContent =
    detail.body.text !== undefined ? detail.body.text : `(${detail.body.size} bytes, not UTF-8: base64)\n${detail.body.base64}`;

  const why = $('result-why');
  why.hidden = true;
  let title = 'Answer (nothing kept)';
  let body = pretty(detail.answer);
  table('result-attributes', []);
  if (detail.outcome === 'event' || detail.outcome === 'spooled') {
    title =
      detail.outcome === 'event' ? 'Event sent to the events queue' : 'Event in the spool (SQS did not take it; the redrive sends it)';
    if (detail.duplicateOf !== null) title += ` · duplicate of #${detail.duplicateOf} (same id)`;
    body = pretty(detail.event);
    if (detail.attributes) table('result-attributes', Object.entries(detail.attributes));
  } else if (detail.outcome === 'quarantined') {
    title = 'Quarantined: kept for npm run replay';
    body = pretty(detail.quarantine);
    why.hidden = false;
    why.textContent = whyOf(detail);
  } else if (detail.outcome === 'unrouted') {
    title = 'No route serves this path (nothing kept)';
  }
  if (detail.failures.length > 0) {
    const before = why.hidden ? '' : `${why.textContent}\n`;
    why.hidden = false;
    why.textContent = `${before}AWS calls that failed:\n${detail.failures.join('\n')}`;
  }
  $('result-title').textContent = title;
  $('result-body').textContent = body;

  $('replay').hidden = detail.outcome !== 'quarantined';
  $('replays').hidden = detail.replays.length === 0;
  $('replay-list').replaceChildren(
    ...detail.replays.map((replay) => {
      const item = element(
        'li',
        replay.status === 200
          ? `${time(replay.at)} 200: event ${replay.eventId} sent to the events queue`
          : `${time(replay.at)} ${replay.status}: still failing: ${replay.error}`,
      );
      item.dataset.status = String(replay.status);
      if (replay.eventBody) item.append(element('pre', pretty(replay.eventBody), 'body replayed-event'));
      return item;
    }),
  );
}

function select(seq) {
  const changed = state.selected !== seq;
  state.selected = seq;
  const row = state.rows.get(seq);
  if (changed && row) {
    /** @type {HTMLInputElement} */ ($('sample-name')).value = suggestedName(row);
    say('');
  }
  renderList();
  showDetail(seq).catch((error) => say(error.message, true));
}

function connect() {
  const live = $('live');
  const stream = new EventSource('/_inspector/stream');
  stream.addEventListener('open', () => {
    live.textContent = 'live';
    live.classList.remove('off');
    // Whatever arrived while the stream was not open.
    call('/_inspector/requests')
      .then((rows) => {
        for (const row of rows) upsert(row);
        renderList();
      })
      .catch((error) => say(error.message, true));
  });
  stream.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.classList.add('off');
  });
  stream.addEventListener('request', (message) => {
    const row = JSON.parse(message.data);
    upsert(row);
    renderList();
    if (row.seq === state.selected) showDetail(row.seq).catch((error) => say(error.message, true));
  });
}

function selectedSeq() {
  if (state.selected === null) throw new Error('select a request first');
  return state.selected;
}

$('resend').addEventListener('click', () => {
  const seq = selectedSeq();
  call(`/_inspector/requests/${seq}/resend`, {})
    .then((answer) => {
      say(`#${seq} sent again as #${answer.seq}`);
      select(answer.seq);
    })
    .catch((error) => say(error.message, true));
});

$('save').addEventListener('click', () => {
  const seq = selectedSeq();
  const name = /** @type {HTMLInputElement} */ ($('sample-name')).value.trim();
  call(`/_inspector/requests/${seq}/save`, { name })
    .then((saved) => say(`saved ${saved.http} and ${saved.expected} (the code answers it ${saved.status})`))
    .catch((error) => say(error.message, true));
});

$('replay').addEventListener('click', () => {
  const seq = selectedSeq();
  call(`/_inspector/requests/${seq}/replay`, {})
    .then((replay) =>
      say(
        replay.status === 200
          ? `replayed: event ${replay.eventId} is on the events queue`
          : `still failing: ${replay.status} ${replay.error}`,
      ),
    )
    .catch((error) => say(error.message, true));
});

$('filter-source').addEventListener('change', (event) => {
  state.source = event.target.value;
  renderList();
});
$('filter-answer').addEventListener('change', (event) => {
  state.answer = event.target.value;
  renderList();
});

connect();
