// Reviewer page: the queue (filters by status, meter kind, confidence), one item at a time with the photo,
// the digit-window crop and the debug overlay side by side; approve / correct / reject from the keyboard;
// the next item is fetched ahead so it shows at once.
import { api, currentUser, imageUrl } from "./api.js";
import { digitEditor } from "./digits.js";
import { explainError, SOURCE_LABEL } from "./messages.js";
import { $, $$, badge, el, fmtDate, fmtTime, header, notice, pct, showError, toast } from "./ui.js";

const REJECT_PRESETS = [
  "The photo is not of this meter.",
  "The digits cannot be read in the photo: please send a sharper photo, straight on.",
  "The value does not match the photo.",
  "Duplicate of a reading already sent.",
];

const state = {
  user: null,
  items: [],
  index: 0,
  current: null,
  editor: null,
  busy: false,
  prepared: new Map(), // submission id -> Promise<{meter, draft}>
  meters: new Map(), // meter id -> Promise<meter>
  users: new Map(),
};

// ---- queue -------------------------------------------------------------------------------------------

function filterQuery() {
  const q = new URLSearchParams();
  q.append("status", $("#f-status").value);
  if ($("#f-kind").value) q.set("kind", $("#f-kind").value);
  const conf = Number($("#f-conf").value);
  if (conf < 1) q.set("max_confidence", String(conf));
  q.set("order", $("#f-order").value);
  q.set("limit", "200");
  return q;
}

function showConf() {
  const v = Number($("#f-conf").value);
  $("#f-conf-out").textContent = v >= 1 ? "any" : `≤ ${Math.round(v * 100)}%`;
}

let queueRequest = 0;

async function loadQueue({ keep } = {}) {
  const mine = ++queueRequest;
  let items;
  try {
    items = await api(`/api/review/queue?${filterQuery()}`);
    if (mine !== queueRequest) return; // the filters changed meanwhile: a newer answer is on its way
  } catch (err) {
    if (mine !== queueRequest) return;
    showError($("#review-notice"), err, "reviewer");
    $("#item").hidden = true;
    $("#queue").replaceChildren();
    $("#queue-count").textContent = "";
    return;
  }
  notice($("#review-notice"), null);
  state.items = items;
  const at = keep ? items.findIndex((x) => x.id === keep) : -1;
  renderList();
  show(at >= 0 ? at : 0);
}

function renderList() {
  const items = state.items;
  $("#queue-count").textContent = `${items.length} item${items.length === 1 ? "" : "s"}`;
  $("#queue-empty").hidden = items.length > 0;
  $("#queue").replaceChildren(
    ...items.map((it, i) =>
      el(
        "li",
        {
          class: "queue-item",
          dataset: { id: it.id, index: i },
          "aria-current": i === state.index ? "true" : "false",
          onclick: () => show(i),
        },
        el("span", { class: "qi-serial" }, it.meter_serial),
        el("span", { class: "qi-value" }, it.value),
        el(
          "span",
          { class: "qi-meta" },
          `${it.meter_kind} · ${fmtDate(it.reading_date)} · ${it.source === "manual" ? "typed" : `${SOURCE_LABEL[it.source] || it.source}, read ${pct(it.confidence)}`}`,
        ),
      ),
    ),
  );
}

function markCurrent() {
  for (const li of $$("#queue .queue-item")) {
    const on = Number(li.dataset.index) === state.index;
    li.setAttribute("aria-current", on ? "true" : "false");
    if (on) li.scrollIntoView({ block: "nearest" });
  }
}

function meterFor(id) {
  if (!state.meters.has(id)) {
    const p = api(`/api/meters/${id}`);
    p.catch(() => state.meters.delete(id));
    state.meters.set(id, p);
  }
  return state.meters.get(id);
}

/** Meter, draft and images of a queue item, fetched once (and ahead of time for the next item). */
function prepare(item) {
  if (!item) return null;
  if (!state.prepared.has(item.id)) {
    const p = Promise.all([meterFor(item.meter_id), item.draft_id ? api(`/api/drafts/${item.draft_id}`) : null]).then(
      ([meter, draft]) => {
        const images = {
          photo: draft ? imageUrl(draft.photo_url).catch(() => null) : Promise.resolve(null),
          crop: draft && draft.crop_url ? imageUrl(draft.crop_url).catch(() => null) : Promise.resolve(null),
          debug: draft && draft.debug_url ? imageUrl(draft.debug_url).catch(() => null) : Promise.resolve(null),
        };
        return { meter, draft, images };
      },
    );
    p.catch(() => state.prepared.delete(item.id));
    state.prepared.set(item.id, p);
  }
  return state.prepared.get(item.id);
}

// ---- one item ----------------------------------------------------------------------------------------

async function show(i) {
  closeReject();
  notice($("#decide-notice"), null);
  const items = state.items;
  if (!items.length) {
    state.current = null;
    state.editor = null;
    $("#item").hidden = true;
    return;
  }
  state.index = Math.max(0, Math.min(items.length - 1, i));
  const item = items[state.index];
  state.current = item;
  markCurrent();
  let data;
  try {
    data = await prepare(item);
  } catch (err) {
    showError($("#decide-notice"), err, "load");
    return;
  }
  if (state.current !== item) return; // moved on meanwhile
  render(item, data);
  prepare(items[state.index + 1]); // ahead of time: the next item shows at once
}

function render(item, { meter, draft, images }) {
  const section = $("#item");
  section.hidden = false;
  section.dataset.submissionId = item.id;
  section.dataset.status = item.status;
  $("#item-title").textContent = `${item.meter_serial} · ${item.meter_kind} · ${item.register}`;
  $("#item-badge").replaceChildren(badge(item.status));
  const facts = [
    ["Submitted", item.submitted_value],
    ["Read", item.read_value || "—"],
    ["Confidence", item.confidence === null ? "—" : pct(item.confidence)],
    ["Date", fmtDate(item.reading_date)],
    ["Source", item.source === "manual" ? "typed by hand" : SOURCE_LABEL[item.source] || item.source],
    ["Sent", fmtTime(item.created_at)],
  ];
  $("#item-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const reason = item.status === "rejected" ? item.reject_reason : item.review_reason;
  notice(
    $("#item-reason"),
    reason ? { title: item.status === "rejected" ? "Rejected" : "Why it is here", text: reason } : null,
    item.status === "rejected" ? "error" : "warn",
  );

  for (const name of ["photo", "crop", "debug"]) {
    const img = $(`#img-${name}`);
    const fig = img.closest("figure");
    fig.classList.remove("zoom");
    const empty = $(".noimg", fig);
    img.hidden = true;
    img.removeAttribute("src");
    empty.hidden = false;
    empty.textContent = !draft ? "Typed by hand: no photo" : "Loading…";
    images[name].then((url) => {
      if (state.current !== item) return;
      if (url) {
        img.src = url;
        img.hidden = false;
        empty.hidden = true;
      } else empty.textContent = name === "photo" ? "No photo" : `No ${name === "crop" ? "digit window" : "overlay"} (nothing found)`;
    });
  }

  state.editor = digitEditor($("#review-digits"), {
    integerDigits: meter.integer_digits,
    fractionalDigits: meter.fractional_digits,
    draft: { reading: item.value, digits: draft ? draft.digits : [], status: draft ? draft.status : "needs_review" },
    label: "Value, one box per digit: type to correct",
    onCommand: (key, e) => command(key, e),
  });
  $("#read-line").textContent = draft
    ? `Recognizer: ${draft.reading || "nothing read"} (${draft.status.replace("_", " ")}, ${pct(draft.confidence)})`
    : "No photo: the customer typed this value.";
  $("#approve").disabled = item.status !== "in_review";
  $("#approve").title = item.status === "in_review" ? "" : "Only readings in review can be approved";
  state.editor.focusFirstUnsure();
  loadAudit(item);
}

async function loadAudit(item) {
  const list = $("#audit");
  list.replaceChildren();
  try {
    const entries = await api(`/api/submissions/${item.id}/audit`);
    if (state.current !== item) return;
    list.replaceChildren(
      ...entries.map((e) =>
        el(
          "li",
          {},
          `${fmtTime(e.at)} — ${e.action} by ${e.user_email || "?"}`,
          e.new_value && e.old_value !== e.new_value ? ` (${e.old_value || "—"} → ${e.new_value})` : "",
          e.note ? `: ${e.note}` : "",
        ),
      ),
    );
  } catch {
    /* the audit is a nicety */
  }
}

// ---- decisions ---------------------------------------------------------------------------------------

async function decide(action, body) {
  const item = state.current;
  if (!item || state.busy) return;
  state.busy = true;
  for (const b of $$(".decide-buttons button")) b.disabled = true;
  try {
    const sub = await api(`/api/review/${item.id}/${action}`, { method: "POST", json: body });
    const word = { approve: "Approved", correct: "Corrected", reject: "Rejected" }[action];
    toast(`${word}: ${item.meter_serial} ${sub.value}`);
    // decided: out of this list (its status changed), the next one shows at once
    state.prepared.delete(item.id);
    state.items.splice(state.index, 1);
    renderList();
    if (state.items.length) await show(state.index);
    else loadQueue();
  } catch (err) {
    if (err.status === 409) {
      notice($("#review-notice"), explainError(err, "review"), "warn");
      loadQueue({ keep: item.id });
    } else showError($("#decide-notice"), err, "review");
  } finally {
    state.busy = false;
    for (const b of $$(".decide-buttons button")) b.disabled = false;
    if (state.current) $("#approve").disabled = state.current.status !== "in_review";
  }
}

function approve() {
  if (!state.current) return;
  if (state.current.status !== "in_review") {
    notice($("#decide-notice"), { title: "Cannot approve", text: "Only readings in review can be approved; correct or reject it instead." }, "warn");
    return;
  }
  if (state.editor && state.editor.edited()) {
    // approving would drop the digits typed: say so rather than guess
    notice(
      $("#decide-notice"),
      { title: "You changed digits", text: `Press C to save ${state.editor.partial()} as the corrected value, or Esc to undo your changes.` },
      "warn",
    );
    return;
  }
  decide("approve");
}

function correct() {
  const ed = state.editor;
  if (!ed) return;
  const value = ed.value();
  if (!value) {
    notice($("#decide-notice"), { title: "Some digits are empty", text: "Type every digit, then press C." }, "error");
    ed.focusFirstUnsure();
    return;
  }
  decide("correct", { value });
}

function openReject() {
  if (!state.current) return;
  $("#reject-box").hidden = false;
  const input = $("#reject-reason");
  input.value = "";
  input.focus();
}

function closeReject() {
  $("#reject-box").hidden = true;
}

function reject(e) {
  if (e) e.preventDefault();
  const reason = $("#reject-reason").value.trim();
  if (!reason) {
    notice($("#decide-notice"), { title: "A reason is needed", text: "The customer sees it: say what to do next." }, "error");
    $("#reject-reason").focus();
    return;
  }
  decide("reject", { reason });
}

function move(delta) {
  if (state.items.length) show((state.index + delta + state.items.length) % state.items.length);
}

function toggleZoom(name) {
  const fig = $(`#img-${name}`).closest("figure");
  const on = !fig.classList.contains("zoom");
  for (const f of $$("#images figure")) f.classList.remove("zoom");
  if (on && !$(`#img-${name}`).hidden) fig.classList.add("zoom");
}

/** Keyboard: letters from the digit boxes arrive here too (they are never digits). */
function command(key, e) {
  const k = key.length === 1 ? key.toLowerCase() : key;
  if (k === "a") approve();
  else if (k === "c" || (k === "Enter" && state.editor && state.editor.edited())) correct();
  else if (k === "r") openReject();
  else if (k === "s" || k === "j" || k === "n") move(1);
  else if (k === "k" || k === "p") move(-1);
  else if (k === "z") toggleZoom("photo");
  else if (k === "Escape") {
    if ($("#reject-box").hidden && state.editor && state.editor.edited()) {
      state.editor.reset();
      notice($("#decide-notice"), null);
    }
    closeReject();
    for (const f of $$("#images figure")) f.classList.remove("zoom");
  } else return false;
  if (e) e.preventDefault();
  return true;
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.classList && t.classList.contains("digit")) return; // the editor passed it on already
  if (t.id === "reject-reason") {
    if (e.key === "Escape") {
      e.preventDefault();
      closeReject();
      state.editor && state.editor.focusFirstUnsure();
    }
    return;
  }
  if (t.matches && t.matches("input, select, textarea")) return;
  if (/^\d$/.test(e.key) && state.editor) {
    // typing a digit anywhere edits the first unsure box
    state.editor.focusFirstUnsure();
    return;
  }
  command(e.key, e);
}

// ---- start -------------------------------------------------------------------------------------------

async function init() {
  state.user = await currentUser().catch((err) => {
    showError($("#page-notice"), err, "load");
    return null;
  });
  if (!state.user) return;
  header(state.user);
  for (const id of ["f-status", "f-kind", "f-order"]) $(`#${id}`).addEventListener("change", () => loadQueue());
  $("#f-conf").addEventListener("input", showConf);
  $("#f-conf").addEventListener("change", () => loadQueue());
  $("#refresh").addEventListener("click", () => loadQueue({ keep: state.current && state.current.id }));
  $("#filters").addEventListener("submit", (e) => e.preventDefault());
  $("#approve").addEventListener("click", approve);
  $("#correct").addEventListener("click", correct);
  $("#reject").addEventListener("click", openReject);
  $("#skip").addEventListener("click", () => move(1));
  $("#reject-box").addEventListener("submit", reject);
  $("#reject-cancel").addEventListener("click", closeReject);
  $("#reject-reasons").replaceChildren(...REJECT_PRESETS.map((r) => el("option", { value: r })));
  $("#reject-presets").replaceChildren(
    ...REJECT_PRESETS.map((r) =>
      el("button", { type: "button", class: "btn btn-quiet btn-small", onclick: () => {
        $("#reject-reason").value = r;
        $("#reject-reason").focus();
      } }, r),
    ),
  );
  for (const name of ["photo", "crop", "debug"]) $(`#img-${name}`).addEventListener("click", () => toggleZoom(name));
  document.addEventListener("keydown", onKey);
  showConf();
  await loadQueue();
}

init();
