// The digit editor: one box per digit of the meter (integer digits, then fractional ones in red like the
// meter's red drums), pre-filled from the recognizer's draft, unsure digits highlighted, editable by
// keyboard (type to overwrite and move on, Backspace, arrows, paste a whole value).
import { el } from "./ui.js";

export const UNSURE_BELOW = 0.9;

/** "00414.676" -> {whole: "00414", frac: "676"}; null when it is not digits with an optional point. */
export function splitValue(text) {
  const m = /^\s*(\d*)(?:[.,](\d*))?\s*$/.exec(text || "");
  if (!m || (!m[1] && !m[2])) return null;
  return { whole: m[1] || "", frac: m[2] || "" };
}

/**
 * Boxes for a meter of `integerDigits` + `fractionalDigits`, from a draft-like {reading, digits, status}.
 * Integer digits are aligned from the right (the recognizer may see more or fewer leading digits),
 * fractional ones from the left. A digit is unsure when its confidence is below 0.9, unreadable ("?"),
 * caught rolling between two values, or missing; when the draft is not accepted every box gets a light
 * "check" frame as well.
 */
export function layoutDigits({ integerDigits, fractionalDigits, reading, digits, status }) {
  const read = digits || [];
  const ints = read.filter((d) => !d.fractional);
  const fracs = read.filter((d) => d.fractional);
  const fromReading = splitValue(reading && !reading.includes("?") ? reading : "");
  const boxes = [];
  for (let i = 0; i < integerDigits; i++) {
    const d = ints[ints.length - integerDigits + i];
    let value = d && /^\d$/.test(d.value) ? d.value : "";
    if (fromReading && fromReading.whole.length === integerDigits) value = fromReading.whole[i];
    boxes.push({ value, fractional: false, digit: d || null });
  }
  for (let j = 0; j < fractionalDigits; j++) {
    const d = fracs[j];
    let value = d && /^\d$/.test(d.value) ? d.value : "";
    if (fromReading && fromReading.frac.length === fractionalDigits) value = fromReading.frac[j];
    boxes.push({ value, fractional: true, digit: d || null });
  }
  const accepted = status === "accepted";
  for (const b of boxes) {
    const d = b.digit;
    b.confidence = d ? d.confidence : null;
    b.unsure = !d || d.value === "?" || d.rolling || d.confidence < UNSURE_BELOW || b.value === "";
    b.check = !accepted;
    b.original = b.value;
  }
  return boxes;
}

/**
 * Build the editor into `container`. Options: integerDigits, fractionalDigits, draft ({reading, digits,
 * status} or null for an empty editor), onChange(editor), onCommand(key, event) for letters and Enter
 * typed in a box (the reviewer's shortcuts), label (aria).
 */
export function digitEditor(container, opts) {
  const { integerDigits, fractionalDigits, onChange, onCommand } = opts;
  const draft = opts.draft || { reading: null, digits: [], status: "rejected" };
  const boxes = layoutDigits({ integerDigits, fractionalDigits, ...draft });
  const total = boxes.length;
  const inputs = [];
  const row = el("div", { class: "digits", role: "group", "aria-label": opts.label || "Meter reading, one box per digit" });

  const changed = () => onChange && onChange(editor);

  function setBox(i, v) {
    const inp = inputs[i];
    inp.value = v;
    inp.classList.toggle("edited", v !== boxes[i].original);
    inp.classList.toggle("empty", v === "");
  }

  function focusBox(i) {
    const inp = inputs[Math.max(0, Math.min(total - 1, i))];
    if (inp) {
      inp.focus();
      inp.select();
    }
  }

  /** Put a value across the boxes: a whole value aligns on its point (leading zeros added), else the
   * digits fill the boxes from box `from` on. */
  function spread(text, from = 0, whole = false) {
    const parts = splitValue(text);
    if (!parts) return false;
    if (whole) {
      const intPart = parts.whole.replace(/^0+(?=\d)/, "");
      if (intPart.length > integerDigits || parts.frac.replace(/0+$/, "").length > fractionalDigits) return false;
      const w = intPart.padStart(integerDigits, "0");
      const f = parts.frac.padEnd(fractionalDigits, "0").slice(0, fractionalDigits);
      const all = w + f;
      for (let i = 0; i < total; i++) setBox(i, all[i]);
    } else {
      const digitsOnly = parts.whole + parts.frac;
      for (let k = 0; k < digitsOnly.length && from + k < total; k++) setBox(from + k, digitsOnly[k]);
    }
    changed();
    return true;
  }

  boxes.forEach((b, i) => {
    if (i === integerDigits && fractionalDigits) row.append(el("span", { class: "digit-point", "aria-hidden": "true" }, "."));
    const conf = b.confidence === null ? "not read" : `read with ${Math.round(b.confidence * 100)}% confidence`;
    const inp = el("input", {
      class: ["digit", b.fractional ? "frac" : "", b.unsure ? "unsure" : "", b.check ? "check" : "", b.value ? "" : "empty"]
        .filter(Boolean)
        .join(" "),
      type: "text",
      inputmode: "numeric",
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: "false",
      maxlength: "1",
      pattern: "[0-9]",
      "aria-label": `Digit ${i + 1} of ${total}${b.fractional ? " (fraction)" : ""}, ${conf}${b.unsure ? ", please check" : ""}`,
      title: b.unsure ? `Please check this digit (${conf})` : conf,
      dataset: { index: i },
    });
    inp.value = b.value;
    inp.addEventListener("focus", () => inp.select());
    inp.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const k = e.key;
      if (/^\d$/.test(k)) {
        e.preventDefault();
        setBox(i, k);
        changed();
        if (i < total - 1) focusBox(i + 1);
        else inp.select();
      } else if (k === "Backspace") {
        e.preventDefault();
        if (inp.value) setBox(i, "");
        else if (i > 0) {
          setBox(i - 1, "");
          focusBox(i - 1);
        }
        changed();
      } else if (k === "Delete") {
        e.preventDefault();
        setBox(i, "");
        changed();
      } else if (k === "ArrowLeft") {
        e.preventDefault();
        focusBox(i - 1);
      } else if (k === "ArrowRight") {
        e.preventDefault();
        focusBox(i + 1);
      } else if (k === "Home") {
        e.preventDefault();
        focusBox(0);
      } else if (k === "End") {
        e.preventDefault();
        focusBox(total - 1);
      } else if (k === "Enter" || k === "Escape" || (k.length === 1 && /\S/.test(k))) {
        // letters are never digits: they are commands (reviewer shortcuts) or ignored
        if (k !== "Enter" || onCommand) e.preventDefault();
        if (onCommand) onCommand(k, e);
      }
    });
    // phones' keyboards often send no usable keydown (key "Unidentified"): tidy up after the fact
    inp.addEventListener("input", () => {
      const digits = inp.value.replace(/\D/g, "");
      if (digits.length > 1) {
        spread(digits, i);
        focusBox(i + digits.length);
        return;
      }
      setBox(i, digits);
      changed();
      if (digits && i < total - 1) focusBox(i + 1);
    });
    inp.addEventListener("paste", (e) => {
      const text = (e.clipboardData || window.clipboardData).getData("text").trim();
      e.preventDefault();
      spread(text, i, /[.,]/.test(text));
    });
    inputs.push(inp);
    row.append(inp);
  });
  container.replaceChildren(row);

  const editor = {
    el: row,
    inputs,
    boxes,
    /** "00414.676" when every box is filled, else null. */
    value() {
      if (inputs.some((x) => !/^\d$/.test(x.value))) return null;
      const v = inputs.map((x) => x.value).join("");
      return fractionalDigits ? `${v.slice(0, integerDigits)}.${v.slice(integerDigits)}` : v;
    },
    /** What is typed so far, "_" for empty boxes (for a read-out). */
    partial() {
      const v = inputs.map((x) => x.value || "_").join("");
      return fractionalDigits ? `${v.slice(0, integerDigits)}.${v.slice(integerDigits)}` : v;
    },
    complete: () => inputs.every((x) => /^\d$/.test(x.value)),
    edited: () => inputs.some((x, i) => x.value !== boxes[i].original),
    setValue: (text) => spread(text, 0, true),
    /** Back to the digits as read. */
    reset() {
      boxes.forEach((b, i) => setBox(i, b.original));
      changed();
    },
    focusFirstUnsure() {
      const i = boxes.findIndex((b, k) => b.unsure || !inputs[k].value);
      focusBox(i >= 0 ? i : 0);
    },
    focus: focusBox,
    disable(flag = true) {
      for (const x of inputs) x.disabled = flag;
    },
  };
  return editor;
}
