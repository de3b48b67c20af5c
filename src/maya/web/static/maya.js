// Maya's page: the chat (replies streamed as server-sent events over fetch), the live tab
// overlay (EventSource on /api/tab/events) and the tip, pay and new-tab controls.
// Everything Maya or the customer says goes in with textContent: never as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const log = $("log"), scroller = log.parentElement, form = $("chat-form"), box = $("message");
  const send = $("send"), activity = $("activity"), tips = $("tips"), pay = $("pay");
  const payLink = $("pay-link"), newTab = $("new-tab"), notice = $("notice"), announcer = $("announce");
  // Every window of this browser shares one cookie, so one tab: a window that opens a new
  // one tells the others (they follow it), and each tab event names its session.
  const windows = "BroadcastChannel" in window ? new BroadcastChannel("maya-tab") : null;
  let view = null, events = null, retry = null, backoff = 1000, misses = 0;
  let paying = false, checking = false;

  // -- requests and what a failed one says -------------------------------------------

  class Problem extends Error {}

  async function problemOf(response) {
    // A JSON error reply ({"error": "words"} or {"error": CODE, "message": "words"}),
    // with Retry-After when the server knows when to come back.
    const data = await response.json().catch(() => ({}));
    let text = typeof data.message === "string" && data.message ? data.message
      : typeof data.error === "string" && /\s/.test(data.error) ? data.error : "";
    if (!text) text = response.status >= 500 ? "Maya's side of the bar is having trouble." : "That didn't work.";
    const wait = parseInt(response.headers.get("Retry-After") || "", 10);
    if (!/try again/i.test(text)) {
      if (wait > 0) text += " Please try again in " + (wait === 1 ? "a second." : wait + " seconds.");
      else if (response.status >= 500) text += " Please try again.";
    }
    return new Problem(text);
  }

  async function call(path, body) {
    // The reply when it is a success; otherwise a Problem whose message the customer reads.
    const init = {credentials: "same-origin", cache: "no-store"};
    if (body !== undefined) {
      Object.assign(init, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new Problem("No connection to Maya: check your network and try again.");
    }
    if (!response.ok) throw await problemOf(response);
    return response;
  }

  async function callJson(path, body) {
    const response = await call(path, body);
    try {
      return await response.json();
    } catch (err) {
      throw new Problem("The connection to Maya broke; please try again.");
    }
  }

  function tell(text) {
    // A failure, said once, politely (a status region), beside the controls.
    notice.textContent = text;
  }

  function hold(control, on) {
    // A control whose request is in flight: still focusable (aria-disabled, not disabled,
    // so focus stays where the customer left it), marked busy, clicks ignored.
    control.setAttribute("aria-disabled", String(on));
    if (on) control.setAttribute("aria-busy", "true"); else control.removeAttribute("aria-busy");
  }
  const held = (control) => control.getAttribute("aria-disabled") === "true";

  function disable(control, off) {
    // Disabling the focused control would drop focus to <body>: the message box takes it.
    if (off && document.activeElement === control) box.focus({preventScroll: true});
    control.disabled = off;
  }

  // -- the conversation -----------------------------------------------------------------

  function toBottom() {
    // The newest words in view, and the message box under them. On a wide screen the log
    // scrolls; on a phone the page does (the chat, message box last, ends it).
    if (scroller.scrollHeight > scroller.clientHeight) scroller.scrollTop = scroller.scrollHeight;
    else window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function say(who, text) {
    const li = document.createElement("li");
    li.className = who;
    li.textContent = text;
    log.append(li);
    toBottom();
    return li;
  }

  function addLink(li, link) {
    // Only a link the payment tool made, re-checked by the server, becomes an anchor.
    if (!link) return;
    const p = document.createElement("p");
    if (link.url) {
      const a = document.createElement("a");
      a.href = link.url; a.target = "_blank"; a.rel = "noopener noreferrer";
      a.textContent = "Open the payment page (" + (link.amount || "") + ")";
      a.addEventListener("click", () => { paying = true; });
      p.append(a);
    } else if (link.is_simulated) {
      p.textContent = "Simulated payment link: no money can move.";
    }
    li.append(p);
  }

  // -- the overlay ------------------------------------------------------------------------

  function setText(el, text, flash) {
    if (el.textContent === text) return;
    el.textContent = text;
    if (!flash) return;
    el.classList.remove("changed");
    void el.offsetWidth;  // restart the highlight
    el.classList.add("changed");
  }

  const words = {pending: "Payment link open", completed: "Paid - thank you!", failed: "Payment declined"};

  // What the payment line says: its state and amount, and whether that link is for the
  // tab as it was (the tab changed since: Pay again makes one for the new total).
  function paymentText(v) {
    const p = v.payment || {status: "none"};
    if (!words[p.status]) return "";
    let text = words[p.status] + (p.amount ? " (" + p.amount + ")" : "");
    if (p.status === "pending" && p.amount_cents !== undefined && v.total_due_cents > 0 &&
        p.amount_cents !== v.total_due_cents) {
      text += ", for the tab before your last change: press Pay for the new total";
    }
    return text;
  }

  // Money received beyond what was owed (a link paid twice): the staff refund it.
  function creditText(v) {
    return v.credit_to_refund ? "Credit to refund: " + v.credit + " (paid beyond what was owed)" : "";
  }

  function summary(v) {
    let text = "Tab " + v.tab + (v.tip_percent ? ", tip " + v.tip + " (" + v.tip_percent + "%)" : "") +
      ", total due " + v.total_due + ", balance " + v.balance + ".";
    if (paymentText(v)) text += " " + paymentText(v) + ".";
    if (creditText(v)) text += " " + creditText(v) + ".";
    return text;
  }

  function show(v, current) {
    // Versions only mean something within one session: a tab of another session is the
    // one the cookie names now (a New tab here or in another window). Within one, an
    // older version is a late reply, except the first event of a (re)opened stream: that
    // is the tab as it is now (after a restart over a fresh store, versions start again).
    if (view && v.session !== view.session) { adopt(v, false); return; }
    if (view && !current && v.version < view.version) return;
    const first = view === null;
    view = v;
    setText($("balance"), v.balance, !first);
    $("balance").dataset.level = v.level;
    setText($("tab"), v.tab, !first);
    setText($("tip"), v.tip, !first);
    setText($("total"), v.total_due, !first);
    setText($("tip-percent"), v.tip_percent ? "(" + v.tip_percent + "%)" : "", false);
    tips.hidden = v.tab_cents === 0;
    for (const b of tips.querySelectorAll("button")) {
      const pressed = String(Number(b.dataset.percent) === v.tip_percent);
      if (b.getAttribute("aria-pressed") !== pressed) b.setAttribute("aria-pressed", pressed);
    }
    disable(pay, v.total_due_cents === 0);
    const p = v.payment || {status: "none"};
    const state = $("payment-state");
    state.hidden = !words[p.status];
    setText(state, paymentText(v), false);
    const credit = $("credit");
    credit.hidden = !v.credit_to_refund;
    setText(credit, creditText(v), false);
    $("simulated").hidden = !p.is_simulated;
    // A declined card leaves the same link usable: it stays on offer, as Maya says.
    if ((p.status === "pending" || p.status === "failed") && p.url) {
      if (payLink.getAttribute("href") !== p.url) payLink.href = p.url;
      setText(payLink, p.status === "failed" ? "Try the payment page again" : "Open payment page", false);
      payLink.hidden = false;
    } else {
      payLink.hidden = true; payLink.removeAttribute("href");
      if (p.status !== "pending") paying = false;
    }
    // One announcement per change: the figures are not a live region themselves (each
    // would be read), this one sentence is, and only when it says something new.
    if (first) announcer.dataset.said = summary(v);
    else if (announcer.dataset.said !== summary(v)) announcer.textContent = announcer.dataset.said = summary(v);
  }

  function adopt(v, reconnect, note) {
    // This window now shows another session's tab: start its page over.
    const known = view !== null;
    view = null;
    paying = false;
    log.replaceChildren();
    show(v);
    announcer.textContent = announcer.dataset.said = summary(v);
    if (note || known) say("note", note || "This window now shows the tab opened in another window.");
    if (reconnect) listen();
  }

  async function refresh() {
    // Which tab the cookie names now (another window may have opened a new one).
    try {
      const v = await callJson("/api/tab");
      if (!view || v.session !== view.session) adopt(v, true); else show(v);
    } catch (err) {
      tell(err instanceof Problem ? err.message : String(err));
    }
  }

  function listen() {
    if (events) events.close();
    clearTimeout(retry);
    events = new EventSource("/api/tab/events");
    let opened = true;
    events.addEventListener("open", () => { opened = true; });
    events.addEventListener("tab", (e) => {
      backoff = 1000;
      misses = 0;
      if (notice.dataset.stream) { tell(""); delete notice.dataset.stream; }
      show(JSON.parse(e.data), opened);
      opened = false;
    });
    events.addEventListener("error", () => {
      // The browser reconnects by itself after a network error; after an error reply it
      // gives up, so this page tries again, a little later each time.
      if (events.readyState === EventSource.CLOSED) {
        retry = setTimeout(listen, backoff);
        backoff = Math.min(backoff * 2, 30000);
      }
      // A stream that ends on time reconnects at once: only a second miss in a row, or no
      // network at all, is worth saying.
      misses += 1;
      if (!navigator.onLine || misses > 1 || events.readyState === EventSource.CLOSED) {
        notice.dataset.stream = "1";
        tell("The tab is not updating: reconnecting to Maya...");
      }
    });
  }

  // -- the controls ------------------------------------------------------------------------

  async function readEvents(response, on) {
    // A fetch body carrying server-sent events: "event: x\ndata: {...}\n\n" blocks.
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        let name = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (data) on(name, JSON.parse(data));
      }
    }
  }

  async function chat(message) {
    say("you", message);
    const li = say("maya", "");
    li.setAttribute("aria-busy", "true");
    hold(send, true);
    let session = null;
    try {
      const response = await call("/api/chat", {message});
      await readEvents(response, (name, data) => {
        if (name === "activity") activity.textContent = data.text;
        else if (name === "delta") { li.textContent += data.text; toBottom(); }
        else if (name === "done") { li.textContent = data.reply; addLink(li, data.link); session = data.session; }
        else if (name === "failed") li.textContent = data.text;
      });
      if (!li.textContent) throw new Problem("The connection to Maya broke; please try again.");
    } catch (err) {
      li.className = "problem";
      li.textContent = err instanceof Problem ? err.message : "The connection to Maya broke; please try again.";
    } finally {
      li.removeAttribute("aria-busy");
      activity.textContent = "";
      hold(send, false);
      toBottom();
    }
    // Answered in another session than this window shows: another window opened it.
    if (session && view && session !== view.session) {
      const kept = [...log.children].slice(-2);
      await refresh();
      log.append(...kept);
      toBottom();
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const message = box.value.trim();
    if (!message || held(send)) return;
    // Send stays where it is while Maya answers; the customer types the next words.
    if (document.activeElement === send) box.focus();
    box.value = "";
    chat(message);
  });

  tips.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-percent]");
    if (!button || held(button)) return;
    // One tip change at a time: a second click while the first is on its way would
    // toggle it straight back off.
    const all = [...tips.querySelectorAll("button")];
    for (const b of all) hold(b, true);
    button.setAttribute("aria-busy", "true");
    for (const b of all) if (b !== button) b.removeAttribute("aria-busy");
    try {
      show(await callJson("/api/tip", {percent: Number(button.dataset.percent)}));
      tell("");
    } catch (err) {
      tell(err instanceof Problem ? err.message : "The tip could not be changed.");
    } finally {
      for (const b of all) hold(b, false);
    }
  });

  pay.addEventListener("click", async () => {
    if (held(pay) || pay.disabled) return;
    hold(pay, true);
    activity.textContent = "Making your payment link...";
    try {
      const data = await callJson("/api/pay", {});
      const li = say("maya", data.message || data.error || "");
      if (data.ok) { addLink(li, data); toBottom(); }
      tell("");
    } catch (err) {
      tell(err instanceof Problem ? err.message : "The payment link could not be made.");
    } finally {
      activity.textContent = "";
      hold(pay, false);
      disable(pay, !view || view.total_due_cents === 0);
    }
  });

  payLink.addEventListener("click", () => { paying = true; });

  newTab.addEventListener("click", async () => {
    if (held(newTab)) return;
    hold(newTab, true);
    try {
      const v = await callJson("/api/new-tab", {});
      tell("");
      adopt(v, true, "A fresh tab: your balance is back to the start.");
      if (windows) windows.postMessage({session: v.session});
      box.focus();
    } catch (err) {
      tell(err instanceof Problem ? err.message : "A new tab could not be opened.");
    } finally {
      hold(newTab, false);
    }
  });

  if (windows) {
    windows.addEventListener("message", (e) => {
      if (!view || (e.data && e.data.session !== view.session)) refresh();
    });
  }

  async function checkPayment() {
    // Back from the checkout page: ask once whether the link was paid. The overlay
    // updates through the tab stream when the payment settles (here or by a webhook).
    if (!paying || checking || !view || view.payment.status !== "pending") return;
    checking = true;
    try {
      const data = await callJson("/api/payment/check", {});
      if (data.ok && data.payment_status !== "pending") paying = false;
    } catch (err) {
      tell(err instanceof Problem ? err.message : "The payment could not be checked.");
    } finally {
      checking = false;
    }
  }

  function back() {
    // A window coming back may have missed a New tab elsewhere (or the network).
    if (document.hidden) return;
    checkPayment();
    if (view) refresh();
  }
  document.addEventListener("visibilitychange", back);
  window.addEventListener("focus", back);
  window.addEventListener("online", () => { tell(""); listen(); });

  listen();
})();
