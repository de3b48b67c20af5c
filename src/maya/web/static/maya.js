// Maya's page: the chat (replies streamed as server-sent events over fetch), the live tab
// overlay (EventSource on /api/tab/events) and the tip, pay and new-tab controls.
// Everything Maya or the customer says goes in with textContent: never as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("chat-form"), box = $("message"), send = $("send");
  const activity = $("activity"), tips = $("tips"), pay = $("pay"), payLink = $("pay-link");
  let view = null, events = null, paying = false, checking = false;

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {}),
    });
  }

  function say(who, text) {
    const li = document.createElement("li");
    li.className = who;
    li.textContent = text;
    log.append(li);
    li.scrollIntoView({block: "end"});
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

  function setText(id, text) {
    const el = $(id);
    if (el.textContent === text) return;
    el.textContent = text;
    el.classList.remove("changed");
    void el.offsetWidth;  // restart the highlight
    el.classList.add("changed");
  }

  function show(v) {
    if (view && v.version < view.version) return;
    view = v;
    setText("balance", v.balance);
    $("balance").dataset.level = v.level;
    setText("tab", v.tab);
    setText("tip", v.tip);
    setText("total", v.total_due);
    $("tip-percent").textContent = v.tip_percent ? "(" + v.tip_percent + "%)" : "";
    tips.hidden = v.tab_cents === 0;
    for (const b of tips.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.percent) === v.tip_percent));
    }
    pay.disabled = v.total_due_cents === 0;
    const p = v.payment || {status: "none"};
    const state = $("payment-state");
    const words = {pending: "Payment link open", completed: "Paid - thank you!", failed: "Payment declined"};
    state.hidden = !words[p.status];
    state.textContent = words[p.status] ? words[p.status] + (p.amount ? " (" + p.amount + ")" : "") : "";
    $("simulated").hidden = !p.is_simulated;
    if (p.status === "pending" && p.url) {
      payLink.href = p.url; payLink.textContent = "Open payment page"; payLink.hidden = false;
    } else {
      payLink.hidden = true; payLink.removeAttribute("href");
      if (p.status !== "pending") paying = false;
    }
  }

  function listen() {
    if (events) events.close();
    events = new EventSource("/api/tab/events");
    events.addEventListener("tab", (e) => show(JSON.parse(e.data)));
  }

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
    send.disabled = true;
    try {
      const response = await post("/api/chat", {message});
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        li.textContent = problem.error || "Sorry, I couldn't hear that.";
        return;
      }
      await readEvents(response, (name, data) => {
        if (name === "activity") activity.textContent = data.text;
        else if (name === "delta") li.textContent += data.text;
        else if (name === "done") { li.textContent = data.reply; addLink(li, data.link); }
        else if (name === "failed") li.textContent = data.text;
      });
    } catch (err) {
      li.textContent = "The connection to Maya broke; please try again.";
    } finally {
      li.removeAttribute("aria-busy");
      activity.textContent = "";
      send.disabled = false;
      li.scrollIntoView({block: "end"});
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const message = box.value.trim();
    if (!message || send.disabled) return;
    box.value = "";
    chat(message);
  });

  tips.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-percent]");
    if (!button) return;
    const response = await post("/api/tip", {percent: Number(button.dataset.percent)});
    const data = await response.json();
    if (response.ok) show(data); else say("note", data.error || "The tip could not be changed.");
  });

  pay.addEventListener("click", async () => {
    pay.disabled = true;
    activity.textContent = "Making your payment link...";
    try {
      const data = await (await post("/api/pay")).json();
      const li = say("maya", data.message || data.error || "");
      if (data.ok) addLink(li, data);
    } finally {
      activity.textContent = "";
      pay.disabled = !view || view.total_due_cents === 0;
    }
  });

  payLink.addEventListener("click", () => { paying = true; });

  $("new-tab").addEventListener("click", async () => {
    const response = await post("/api/new-tab");
    if (!response.ok) return;
    view = null;
    show(await response.json());
    log.replaceChildren();
    say("note", "A fresh tab: your balance is back to the start.");
    listen();
    box.focus();
  });

  async function checkPayment() {
    // Back from the checkout page: ask once whether the link was paid. The overlay
    // updates through the tab stream when the payment settles (here or by a webhook).
    if (!paying || checking || !view || view.payment.status !== "pending") return;
    checking = true;
    try {
      const data = await (await post("/api/payment/check")).json();
      if (data.ok && data.payment_status !== "pending") paying = false;
    } finally {
      checking = false;
    }
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) checkPayment(); });
  window.addEventListener("focus", checkPayment);

  fetch("/api/tab", {credentials: "same-origin"}).then((r) => r.ok ? r.json() : null).then((v) => { if (v) show(v); });
  listen();
})();
