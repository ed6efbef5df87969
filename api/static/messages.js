// Every message a person reads about an API error or a recognizer/plausibility reason, in one place.
// explainError(err, context) -> {title, text, detail}; explainReason(reasonText) -> {title, text} or null.
// `detail` is the API's own sentence, shown in small print under the human text.

const KNOWN_REASONS = [
  {
    test: /blur/i,
    title: "The photo is blurred",
    text: "Hold the phone steady, tap the digits on the screen so the camera focuses on them, then take the photo again. Good light helps.",
  },
  {
    test: /no digit window/i,
    title: "We could not find the counter in the photo",
    text: "Retake it straight on, from about 20–30 cm: the row of digits should fill about a third of the picture, level, with nothing covering it.",
  },
  {
    test: /reflection|glare/i,
    title: "A reflection covers the digits",
    text: "Tilt the phone a little or switch off the flash, then take the photo again.",
  },
  {
    test: /too dark/i,
    title: "The photo is too dark",
    text: "Turn on a light or the flash, then take the photo again.",
  },
  {
    test: /digits are too small|too few digits/i,
    title: "The digits are too small to read",
    text: "Move closer so the counter fills more of the picture, then take the photo again.",
  },
  {
    test: /below the previous reading/i,
    title: "This is lower than your previous reading",
    text: "Meters only count up, so a lower value usually means a digit was misread or mistyped: compare each digit with the meter. If the value is right (for example the meter was replaced), send it anyway — a reviewer checks it before it is used for your bill.",
  },
  {
    test: /implausibly high/i,
    title: "This is much more than usual",
    text: "Check each digit and where the decimal point is (red digits or digits after the point are fractions). If the value is right, send it — a reviewer checks it before it is used for your bill.",
  },
  {
    test: /before the previous reading's|date is in the future/i,
    title: "Check the date",
    text: "The date must be today or earlier, and after your previous reading.",
  },
  {
    test: /could not be read automatically|nothing was read/i,
    title: "We could not read the digits",
    text: "Type the value you see on the meter in the boxes below, or take the photo again.",
  },
  {
    test: /some digits could not be read|not sure of the reading/i,
    title: "Some digits are uncertain",
    text: "Check the highlighted digits against your meter and correct them if needed.",
  },
  {
    test: /integer digits; this meter has/i,
    title: "The number of digits does not match your meter",
    text: "Check every box against the meter: the boxes follow your meter's layout, leading zeros included.",
  },
  {
    test: /customer changed the read value/i,
    title: "You corrected the value we read",
    text: "Thanks — a reviewer will confirm it.",
  },
];

/** Human words for a recognizer / plausibility / review reason (first match), or null. */
export function explainReason(reason) {
  if (!reason) return null;
  for (const r of KNOWN_REASONS) if (r.test.test(reason)) return { title: r.title, text: r.text, detail: reason };
  return { title: "Please check", text: reason, detail: null };
}

// Why a sent reading went to a reviewer (the submission's review_reason): said after the fact, so no
// "retake the photo" advice — the customer has nothing left to do.
const REVIEW_REASONS = [
  {
    test: /customer changed the read value|value was typed by the customer/i,
    title: "You corrected the digits we read",
    text: "A reviewer compares your value with the photo.",
  },
  {
    test: /not read with confidence|could not be read/i,
    title: "We were not sure of the photo",
    text: "A reviewer reads the digits on it.",
  },
  {
    test: /below the previous reading/i,
    title: "Lower than your previous reading",
    text: "Meters only count up, so a reviewer checks whether a digit was misread or the meter was replaced.",
  },
  {
    test: /implausibly high/i,
    title: "Much more than usual",
    text: "A reviewer checks it before it is used for your bill.",
  },
  {
    test: /before the previous reading's/i,
    title: "Dated before your previous reading",
    text: "A reviewer checks the date.",
  },
];

/** All the reasons found in a (possibly multi-sentence) review reason of a submission, without duplicates. */
export function explainReasons(reason) {
  if (!reason) return [];
  const out = [];
  for (const r of REVIEW_REASONS) if (r.test.test(reason)) out.push({ title: r.title, text: r.text });
  return out.length ? out : [{ title: "To check", text: reason }];
}

const IMAGE_CODES = {
  not_an_image: {
    title: "That file is not a photo",
    text: "Choose a JPEG, PNG or WebP photo of your meter — or use “Take a photo” so the camera opens.",
  },
  unsupported_format: {
    title: "This photo format is not accepted",
    text: "Send a JPEG, PNG or WebP photo. iPhones saving HEIC: Settings → Camera → Formats → “Most Compatible”, or use “Take a photo” here.",
  },
  too_large: {
    title: "The photo is too large",
    text: "Send a smaller photo: take it again at a lower resolution, or crop it around the counter.",
  },
  too_many_pixels: {
    title: "The photo has too many pixels",
    text: "Take it again at a lower resolution, or crop it around the counter.",
  },
  too_small: {
    title: "The photo is too small",
    text: "The picture is too small to read digits from. Take a new photo with the camera.",
  },
  empty: {
    title: "The file is empty",
    text: "No photo arrived. Choose the photo again.",
  },
  truncated: {
    title: "The photo arrived incomplete",
    text: "It may be damaged or the upload was interrupted. Please send it again.",
  },
};

const CONTEXT_403 = {
  reviewer: "This page is for reviewers and operators. Sign in with a reviewer account, or go to your own page.",
  operator: "This page is for operators. Sign in with an operator account, or go to your own page.",
  upload: "You cannot send readings for this meter. If it is yours, ask your utility to add it to your account.",
  manual: "You cannot send readings for this meter. If it is yours, ask your utility to add it to your account.",
  confirm: "Only the person who took the photo can confirm it.",
};

/**
 * Human text for an ApiError (or any error) in a context: "login", "upload", "confirm", "manual",
 * "review", "load", "reviewer", "operator".
 */
export function explainError(err, context = "load") {
  const status = err && typeof err.status === "number" ? err.status : -1;
  const detail = (err && err.detail) || "";
  const code = err && err.code;
  const withDetail = (m) => ({ detail: detail && detail !== m.text ? detail : null, ...m });

  if (status === 0) {
    return {
      title: "No connection",
      text: "We could not reach the server. Check your mobile data or Wi-Fi and try again — sending the same reading twice is safe.",
      detail: null,
    };
  }
  if (status === 401) {
    if (context === "login") {
      return {
        title: "Wrong email or password",
        text: "Check both and try again (passwords are case-sensitive).",
        detail: null,
      };
    }
    return { title: "Please sign in again", text: "Your session has ended.", detail: null };
  }
  if (code && IMAGE_CODES[code]) return withDetail(IMAGE_CODES[code]);
  if (status === 413) return withDetail(IMAGE_CODES.too_large);
  if (status === 415) return withDetail(IMAGE_CODES.not_an_image);
  if (status === 403) {
    return withDetail({
      title: "Not allowed",
      text: CONTEXT_403[context] || "You do not have access to this. If you think you should, contact your utility.",
    });
  }
  if (status === 404) {
    return withDetail({
      title: "Not found",
      text: "It may have been removed, or it belongs to another account. Reload the page.",
    });
  }
  if (status === 409) {
    if (context === "confirm") {
      return withDetail({ title: "Already sent", text: "This reading was already confirmed; it is in your history." });
    }
    if (context === "review") {
      return withDetail({
        title: "Already decided",
        text: "Someone decided on this item already (or it is not in review any more). The queue has been refreshed.",
      });
    }
    return withDetail({ title: "Already done", text: "This was done already." });
  }
  if (status === 422) {
    const reason = explainReason(detail);
    if (reason && reason.title !== "Please check") return reason;
    if (/not a meter reading|fractional digits|integer digits/i.test(detail)) {
      return {
        title: "Please check the value",
        text: "Use digits and at most one decimal point, as shown on the meter (e.g. 00414.676).",
        detail,
      };
    }
    if (/reason is required/i.test(detail)) {
      return { title: "A reason is needed", text: "Type a reason for the customer: they will see it.", detail: null };
    }
    return { title: "Please check what you entered", text: detail || "Some field is not valid.", detail: null };
  }
  if (status >= 500) {
    return {
      title: "Something went wrong on our side",
      text: "Please try again in a minute. If it keeps happening, type the reading by hand instead.",
      detail: null,
    };
  }
  return {
    title: "Something went wrong",
    text: detail || (err && err.message) || "Please try again.",
    detail: null,
  };
}

export const STATUS_LABELS = {
  accepted: "Accepted",
  in_review: "In review",
  approved: "Approved",
  corrected: "Corrected",
  rejected: "Rejected",
  needs_review: "Please check",
};

export const UNITS = { water: "m³", gas: "m³", electricity: "kWh" };

/** How a reading came in, in words (Submission.source). */
export const SOURCE_LABEL = { photo: "photo", email: "photo by e-mail", manual: "typed" };
