// Customer page: choose a meter, photograph it (upload progress, then "reading"), check the digits,
// confirm with an Idempotency-Key; manual entry; history table and chart.
import { api, currentUser, download, imageUrl, newKey, upload, HOME_OF_ROLE } from "./api.js";
import { consumptionChart } from "./chart.js";
import { digitEditor, splitValue } from "./digits.js";
import { explainReason, explainReasons, SOURCE_LABEL, UNITS } from "./messages.js";
import { $, badge, el, fmtDate, fmtNumber, fmtShort, header, notice, showError, todayIso } from "./ui.js";

const state = {
  user: null,
  meters: [],
  meter: null,
  register: null,
  draft: null,
  editor: null,
  uploading: false,
  // one key per (draft or meter, payload): a retry of the same request reuses it, another request gets a new one
  keys: new Map(),
};

const METER_KEY = "meterread.meter";

function keyFor(scope, payload) {
  const id = `${scope}|${JSON.stringify(payload)}`;
  if (!state.keys.has(id)) state.keys.set(id, newKey());
  return state.keys.get(id);
}

const unit = () => (state.meter ? UNITS[state.meter.kind] || "" : "");

function meterLabel(m) {
  const kind = { water: "Water", gas: "Gas", electricity: "Electricity" }[m.kind] || m.kind;
  return `${kind} meter ${m.serial}`;
}

function formatHint(m) {
  const whole = "0".repeat(m.integer_digits);
  return m.fractional_digits ? `${whole}.${"0".repeat(m.fractional_digits)}` : whole;
}

// ---- meters ------------------------------------------------------------------------------------------

async function loadMeters() {
  const select = $("#meter-select");
  try {
    state.meters = await api("/api/meters");
  } catch (err) {
    showError($("#meter-notice"), err, "load");
    return;
  }
  if (!state.meters.length) {
    select.replaceChildren(el("option", {}, "No meter yet"));
    notice(
      $("#meter-notice"),
      { title: "No meter on your account yet", text: "Ask your utility to add your meter; then it appears here." },
      "info",
    );
    $("#send-card").hidden = true;
    $("#manual-card").hidden = true;
    $("#history-card").hidden = true;
    return;
  }
  select.replaceChildren(...state.meters.map((m) => el("option", { value: m.id }, meterLabel(m))));
  select.disabled = state.meters.length < 2;
  const remembered = Number(localStorage.getItem(METER_KEY));
  const first = state.meters.find((m) => m.id === remembered) || state.meters[0];
  select.value = String(first.id);
  select.addEventListener("change", () => chooseMeter(Number(select.value)));
  $("#register-select").addEventListener("change", () => {
    state.register = $("#register-select").value;
    resetDraft();
    loadHistory();
  });
  chooseMeter(first.id);
}

function chooseMeter(id) {
  state.meter = state.meters.find((m) => m.id === id);
  localStorage.setItem(METER_KEY, String(id));
  const regs = state.meter.registers.map((r) => r.name);
  state.register = regs[0];
  const regSelect = $("#register-select");
  regSelect.replaceChildren(...regs.map((n) => el("option", { value: n }, n)));
  $("#register-field").hidden = regs.length < 2;
  $("#manual-value").placeholder = `e.g. ${formatHint(state.meter)}`;
  $("#whole-value").placeholder = `e.g. ${formatHint(state.meter)}`;
  resetDraft();
  notice($("#result-notice"), null);
  // the photo inputs and the manual form stay disabled in the HTML until a meter is chosen
  if (!state.uploading) busy(false);
  $("#manual-submit").disabled = false;
  loadHistory();
}

// ---- photo -> draft ----------------------------------------------------------------------------------

function resetDraft() {
  state.draft = null;
  state.editor = null;
  $("#draft-card").hidden = true;
  notice($("#upload-notice"), null);
}

function busy(flag) {
  state.uploading = flag;
  for (const id of ["photo-camera", "photo-pick"]) $(`#${id}`).disabled = flag;
  $("#photo-buttons").classList.toggle("is-busy", flag);
}

async function sendPhoto(file) {
  if (!file || !state.meter) return;
  const meter = state.meter;
  resetDraft();
  notice($("#result-notice"), null);
  const progress = $("#progress");
  const bar = $("#progress-bar");
  const text = $("#progress-text");
  const thumb = $("#progress-thumb");
  const localUrl = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
  thumb.hidden = !localUrl;
  if (localUrl) thumb.src = localUrl;
  bar.value = 0;
  text.textContent = "Uploading photo… 0%";
  progress.hidden = false;
  progress.classList.remove("is-reading");
  busy(true);
  const form = new FormData();
  form.append("file", file, file.name || "meter.jpg");
  form.append("register", state.register);
  try {
    const draft = await upload(`/api/meters/${state.meter.id}/photos`, form, {
      onProgress: (f) => {
        bar.value = Math.round(f * 100);
        text.textContent = `Uploading photo… ${Math.round(f * 100)}%`;
      },
      onUploaded: () => {
        bar.removeAttribute("value"); // indeterminate
        progress.classList.add("is-reading");
        text.textContent = "Reading the digits…";
      },
    });
    progress.hidden = true;
    if (state.meter !== meter) return; // another meter was chosen meanwhile: this draft is not for it
    await showDraft(draft);
  } catch (err) {
    progress.hidden = true;
    const n = showError($("#upload-notice"), err, "upload");
    if (n && err.status !== 0) {
      n.append(el("p", { class: "notice-detail" }, "You can also type the reading by hand below."));
    }
  } finally {
    busy(false);
    if (localUrl) setTimeout(() => URL.revokeObjectURL(localUrl), 1000);
  }
}

async function showDraft(draft) {
  state.draft = draft;
  const m = state.meter;
  const card = $("#draft-card");
  card.hidden = false;
  card.dataset.status = draft.status;
  card.dataset.draftId = draft.id;

  const box = $("#draft-notice");
  if (draft.status === "accepted") {
    notice(box, { title: `We read ${draft.reading}`, text: "Check that it matches your meter, then confirm." }, "ok");
  } else {
    const why = explainReason(draft.reason) || { title: "Please check the digits", text: "" };
    const msg = { ...why };
    if (draft.status === "rejected" || !draft.digits.length) {
      msg.text = `${why.text} You can type the value you see in the boxes below.`.trim();
    }
    notice(box, msg, draft.status === "rejected" ? "error" : "warn");
  }

  const img = $("#crop-img");
  const caption = $("#crop-caption");
  img.removeAttribute("src");
  img.hidden = true;
  const which = draft.crop_url ? "crop" : "photo";
  caption.textContent =
    which === "crop" ? "The digit window found in your photo" : "Your photo (no digit window was found in it)";
  if (which === "crop" && draft.turned) {
    const how = draft.rotation === 90 || draft.rotation === 270 ? "sideways" : "upside down";
    caption.textContent += ` (your photo was ${how}: shown turned the right way up)`;
  }
  $("#crop-figure").dataset.image = which;
  imageUrl(draft.crop_url || draft.photo_url)
    .then((url) => {
      img.alt = which === "crop" ? "The digit window cut out of your photo" : "Your photo";
      img.src = url;
      img.hidden = false;
    })
    .catch(() => {
      caption.textContent = "The image could not be loaded.";
    });

  const whole = $("#whole-value");
  state.editor = digitEditor($("#digit-editor"), {
    integerDigits: m.integer_digits,
    fractionalDigits: m.fractional_digits,
    draft,
    label: `Reading of meter ${m.serial}, one box per digit`,
    onChange: (ed) => {
      if (document.activeElement !== whole) whole.value = ed.value() || "";
      notice($("#confirm-notice"), null);
    },
    onCommand: (key) => {
      if (key === "Enter") confirmDraft();
    },
  });
  whole.value = state.editor.value() || "";

  const p = draft.plausibility;
  $("#previous-line").textContent =
    p && p.previous ? `Previous reading: ${p.previous}${p.previous_date ? ` on ${fmtDate(p.previous_date)}` : ""}.` : "";
  notice($("#confirm-notice"), null);
  const button = $("#confirm");
  button.disabled = false;
  button.textContent = "Confirm reading";
  card.scrollIntoView({ behavior: "smooth", block: "start" });
}

function onWholeInput() {
  const ed = state.editor;
  if (!ed) return;
  const text = $("#whole-value").value;
  if (!text.trim()) return;
  if (!splitValue(text) || !ed.setValue(text)) {
    notice(
      $("#confirm-notice"),
      {
        title: "Please check the value",
        text: `This meter shows ${state.meter.integer_digits} digits${state.meter.fractional_digits ? ` and ${state.meter.fractional_digits} after the point` : ""}, e.g. ${formatHint(state.meter)}.`,
      },
      "warn",
    );
  } else notice($("#confirm-notice"), null);
}

async function confirmDraft() {
  const draft = state.draft;
  const ed = state.editor;
  if (!draft || !ed) return;
  const value = ed.value();
  if (!value) {
    notice(
      $("#confirm-notice"),
      { title: "Some boxes are empty", text: "Fill in every digit as it shows on the meter (use 0 for leading zeros)." },
      "error",
    );
    ed.focusFirstUnsure();
    return;
  }
  const button = $("#confirm");
  button.disabled = true;
  button.textContent = "Sending…";
  try {
    const sub = await api(draft.confirm_url, {
      method: "POST",
      json: { value },
      idempotencyKey: keyFor(`draft:${draft.id}`, value),
    });
    resetDraft();
    showSubmission(sub);
    loadHistory();
  } catch (err) {
    showError($("#confirm-notice"), err, "confirm");
    button.disabled = false;
    button.textContent = "Confirm reading";
    if (err.status === 409) {
      button.disabled = true;
      loadHistory();
    }
  }
}

/** The outcome of a confirm or a manual entry, in the send card. */
function showSubmission(sub, box = $("#result-notice")) {
  if (sub.status === "accepted") {
    notice(
      box,
      { title: `Reading ${sub.value} sent`, text: "Thank you — it was accepted and appears in your history." },
      "ok",
    );
  } else {
    const reasons = explainReasons(sub.review_reason);
    notice(
      box,
      {
        title: `Reading ${sub.value} sent — a reviewer will check it`,
        text: "You don't need to do anything else; you will see the decision in your history.",
        extra: reasons.length
          ? [el("ul", { class: "reasons" }, ...reasons.map((r) => el("li", {}, el("strong", {}, r.title), " — ", r.text)))]
          : [],
      },
      "warn",
    );
  }
  box.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// ---- manual entry ------------------------------------------------------------------------------------

async function sendManual(e) {
  e.preventDefault();
  const box = $("#manual-notice");
  const value = $("#manual-value").value.trim();
  const date = $("#manual-date").value || todayIso();
  const note = $("#manual-note").value.trim();
  if (!value) {
    notice(box, { title: "Type the reading", text: "Enter the digits you see on the meter." }, "error");
    $("#manual-value").focus();
    return;
  }
  const payload = { value, register: state.register, date, ...(note ? { note } : {}) };
  const button = $("#manual-submit");
  button.disabled = true;
  button.textContent = "Sending…";
  try {
    const sub = await api(`/api/meters/${state.meter.id}/readings`, {
      method: "POST",
      json: payload,
      idempotencyKey: keyFor(`meter:${state.meter.id}`, payload),
    });
    showSubmission(sub, box);
    $("#manual-value").value = "";
    $("#manual-note").value = "";
    loadHistory();
  } catch (err) {
    showError(box, err, "manual");
  } finally {
    button.disabled = false;
    button.textContent = "Send reading";
  }
}

// ---- history -----------------------------------------------------------------------------------------

function statusCell(r) {
  const cell = el("td", { class: "status-cell" }, badge(r.status));
  let why = null;
  if (r.status === "rejected") why = r.reject_reason ? `Reason: ${r.reject_reason}` : null;
  else if (r.status === "in_review") why = "A reviewer will check it.";
  else if (r.status === "corrected" && r.submitted_value !== r.value) why = `You sent ${r.submitted_value}.`;
  if (why) cell.append(el("span", { class: "status-why" }, why));
  return cell;
}

async function loadHistory() {
  const meter = state.meter;
  if (!meter) return;
  const tbody = $("#history-table tbody");
  let data;
  try {
    data = await api(`/api/meters/${meter.id}/history?register=${encodeURIComponent(state.register)}`);
  } catch (err) {
    showError($("#history-notice"), err, "load");
    return;
  }
  if (meter !== state.meter) return; // another meter was chosen meanwhile
  notice($("#history-notice"), null);
  const reg = data.registers.find((r) => r.register === state.register) || data.registers[0] || { readings: [] };
  const rows = reg.readings;
  consumptionChart($("#chart"), rows, { unit: unit() });
  if (!rows.length) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No readings yet.")));
  } else {
    tbody.replaceChildren(
      ...rows
        .slice()
        .reverse()
        .map((r) =>
          el(
            "tr",
            { dataset: { submissionId: r.submission_id, status: r.status } },
            el(
              "td",
              { class: "date", title: fmtDate(r.date) },
              fmtShort(r.date),
              el("span", { class: "source" }, `${r.date.slice(0, 4)} · ${SOURCE_LABEL[r.source] || "typed"}`),
            ),
            el("td", { class: "mono" }, r.value),
            el(
              "td",
              { class: "num" },
              r.consumption !== null ? `${fmtNumber(r.consumption)} ${unit()}` : "–",
            ),
            statusCell(r),
          ),
        ),
    );
  }
  const last = rows.filter((r) => r.counted).pop();
  $("#meter-summary").textContent = last
    ? `Last counted reading: ${last.value} ${unit()} on ${fmtDate(last.date)}.`
    : "No reading counted yet for this meter.";
}

// ---- start -------------------------------------------------------------------------------------------

async function init() {
  state.user = await currentUser().catch((err) => {
    showError($("#page-notice"), err, "load");
    return null;
  });
  if (!state.user) return;
  header(state.user);
  if (state.user.role === "reviewer") {
    notice(
      $("#page-notice"),
      {
        title: "This page is for customers",
        text: "You are signed in as a reviewer: readings can be sent by customers (and operators) only.",
        extra: [el("p", {}, el("a", { href: HOME_OF_ROLE.reviewer }, "Go to the review queue"))],
      },
      "info",
    );
  }
  for (const id of ["photo-camera", "photo-pick"]) {
    const input = $(`#${id}`);
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      input.value = ""; // choosing the same file again fires "change" again
      sendPhoto(file);
    });
  }
  $("#confirm").addEventListener("click", confirmDraft);
  $("#retake").addEventListener("click", () => {
    resetDraft();
    $("#send-card").scrollIntoView({ behavior: "smooth" });
    $("#photo-camera").click();
  });
  $("#whole-value").addEventListener("input", onWholeInput);
  $("#whole-value").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      confirmDraft();
    }
  });
  $("#manual-date").value = todayIso();
  $("#manual-date").max = todayIso();
  $("#manual-form").addEventListener("submit", sendManual);
  $("#csv").addEventListener("click", () =>
    download(`/api/meters/${state.meter.id}/history.csv`, "history.csv").catch((err) =>
      showError($("#history-notice"), err, "load"),
    ),
  );
  await loadMeters();
}

init();
