// Operator page (minimal): list and create accounts, meters and people through the API.
import { api, currentUser } from "./api.js";
import { $, el, header, notice, showError, toast } from "./ui.js";

let accounts = [];

function fill(table, rows) {
  const tbody = $(`${table} tbody`);
  tbody.replaceChildren(
    ...(rows.length ? rows : [[el("span", { class: "muted" }, "None yet")]]).map((cells) =>
      el("tr", {}, ...cells.map((c) => el("td", {}, c))),
    ),
  );
}

async function load() {
  try {
    const [acc, meters, users] = await Promise.all([api("/api/accounts"), api("/api/meters"), api("/api/users")]);
    accounts = acc;
    const number = new Map(acc.map((a) => [a.id, a.number]));
    fill("#accounts", acc.map((a) => [a.number, a.name]));
    fill("#meters", meters.map((m) => [
      m.serial, m.kind, `${m.integer_digits}+${m.fractional_digits} · ${m.registers.map((r) => r.name).join(", ")}`,
      number.get(m.account_id) || m.account_id,
    ]));
    fill("#users", users.map((u) => [u.email, u.role, u.account_ids.map((id) => number.get(id) || id).join(", ")]));
    const options = acc.map((a) => el("option", { value: a.id }, `${a.number} — ${a.name}`));
    $("#met-account").replaceChildren(...options.map((o) => o.cloneNode(true)));
    $("#usr-account").replaceChildren(el("option", { value: "" }, "None"), ...options);
    notice($("#ops-notice"), null);
  } catch (err) {
    showError($("#ops-notice"), err, "operator");
  }
}

function onSubmit(form, build, done) {
  $(form).addEventListener("submit", async (e) => {
    e.preventDefault();
    const [path, json] = build();
    try {
      const out = await api(path, { method: "POST", json });
      toast(done(out));
      $(form).reset();
      load();
    } catch (err) {
      showError($("#ops-notice"), err, "operator");
    }
  });
}

async function init() {
  const user = await currentUser();
  header(user);
  onSubmit("#account-form", () => ["/api/accounts", { number: $("#acc-number").value.trim(), name: $("#acc-name").value.trim() }],
    (a) => `Account ${a.number} created`);
  onSubmit("#meter-form", () => ["/api/meters", {
    account_id: Number($("#met-account").value), serial: $("#met-serial").value.trim(), kind: $("#met-kind").value,
    integer_digits: Number($("#met-int").value), fractional_digits: Number($("#met-frac").value),
    registers: $("#met-registers").value.split(",").map((s) => s.trim()).filter(Boolean),
  }], (m) => `Meter ${m.serial} created`);
  onSubmit("#user-form", () => ["/api/users", {
    email: $("#usr-email").value.trim(), name: $("#usr-name").value.trim() || null, password: $("#usr-password").value,
    role: $("#usr-role").value, account_ids: $("#usr-account").value ? [Number($("#usr-account").value)] : [],
  }], (u) => `${u.email} can sign in now`);
  load();
}

init();
