// Sign-in: POST /api/auth/token (OAuth2 password form), keep the token, go to the page of the user's role
// (or back to the page that sent us here).
import { api, getToken, setToken, clearToken, HOME_OF_ROLE } from "./api.js";
import { $, notice, showError } from "./ui.js";

const params = new URLSearchParams(location.search);

function destination(user) {
  const next = params.get("next");
  // only a path on this site: never "//evil.example" or "https://..."
  if (next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") && next !== "/") return next;
  return HOME_OF_ROLE[user.role] || "/customer";
}

async function alreadySignedIn() {
  if (!getToken()) return;
  try {
    const user = await api("/api/users/me", { redirect401: false });
    location.replace(destination(user));
  } catch {
    clearToken(); // expired: stay here
  }
}

function init() {
  const box = $("#signin-notice");
  if (params.get("why") === "expired") {
    notice(box, { title: "Please sign in again", text: "Your session has ended." }, "info");
  }
  const form = $("#signin-form");
  const button = $("#signin-submit");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const username = $("#email").value.trim();
    const password = $("#password").value;
    if (!username || !password) {
      notice(box, { title: "Enter your email and password", text: "Both are needed to sign in." }, "error");
      (username ? $("#password") : $("#email")).focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const token = await api("/api/auth/token", { method: "POST", form: { username, password } });
      setToken(token.access_token, $("#remember").checked);
      const user = await api("/api/users/me");
      notice(box, { title: `Welcome${user.name ? `, ${user.name}` : ""}`, text: "Opening your page…" }, "ok");
      location.assign(destination(user));
    } catch (err) {
      showError(box, err, "login");
      $("#password").select();
      button.disabled = false;
      button.textContent = "Sign in";
    }
  });
  $("#email").focus();
  alreadySignedIn();
}

init();
