// Keyboard shortcuts (listed under "?"): "/" the page's search or filter,
// "n" a note, "r" the reply, "a" accept the offer, "t" take the case,
// "g" then d/c/u/w/m to go to the desk, cases, customers, wallboard, notices.
let pendingG = false;
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) return;
  const keys = document.getElementById("keys");
  if (pendingG) {
    pendingG = false;
    const to = { d: "/desk", c: "/cases", u: "/customers", w: "/wallboard", m: "/notifications" }[e.key];
    if (to) { e.preventDefault(); location.assign(to); }
    return;
  }
  const focus = (css) => { const el = document.querySelector(css); if (el) { e.preventDefault(); el.scrollIntoView({ block: "center" }); el.focus(); } };
  const click = (css) => { const el = document.querySelector(css); if (el) { e.preventDefault(); el.click(); } };
  switch (e.key) {
    case "/": focus("#customer-q, .filters input, .filters select"); break;
    case "n": focus("#note-body"); break;
    case "r": focus("#reply-body"); break;
    case "a": click(".offer button.accept"); break;
    case "t": click("form[action$='/take'] button"); break;
    case "g": pendingG = true; break;
    case "?": if (keys) { e.preventDefault(); keys.open ? keys.close() : keys.showModal(); } break;
  }
});
// Closing a case, or merging another into it, asks first: neither is undone.
document.addEventListener("submit", (e) => {
  const b = e.submitter;
  const zh = document.documentElement.lang === "zh-CN";
  if (b && b.dataset.action === "close" && !confirm(zh ? "确认关闭工单？" : "Close this case?")) e.preventDefault();
  if (b && b.dataset.merge !== undefined && !confirm(zh ? "确认合并？重复工单将被关闭。" : "Merge? The duplicate will be closed.")) e.preventDefault();
});
// Choosing a reply template fills the form with it, filled in for this case.
document.addEventListener("change", async (e) => {
  if (e.target.id !== "reply-template" || !e.target.value) return;
  const form = e.target.form;
  const r = await fetch(`/api/v1/cases/${form.dataset.case}/templates/${e.target.value}`, { credentials: "same-origin" });
  if (!r.ok) return;
  const t = await r.json();
  form.querySelector("#reply-subject").value = t.subject;
  form.querySelector("#reply-body").value = t.body;
});
// While an agent types a note, the suggestions beside the case follow the
// words (half a second after the last key).
const note = document.getElementById("note-body");
const panel = document.getElementById("suggestions");
if (note && panel) {
  let timer;
  note.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = note.value.trim();
      if (text.length < 2) return;
      const r = await fetch(`/cases/${panel.dataset.case}/suggestions?text=${encodeURIComponent(text)}`, { credentials: "same-origin" });
      if (r.ok) panel.innerHTML = await r.text();
    }, 500);
  });
}
// One event stream a page: the router's decisions refresh the parts marked
// data-live (the page fetches itself again), and a call the PBX gives this
// agent pops its screen on every working page.
// The header's state badge follows the agent's own routing news.
const live = document.querySelector("main [data-live]");
const badge = document.getElementById("my-state");
if (live || document.body.hasAttribute("data-pop")) {
  let pending = null;
  const refresh = async () => {
    pending = null;
    const r = await fetch(location.pathname + location.search, { credentials: "same-origin" });
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    document.querySelectorAll("[data-live]").forEach((el) => {
      const fresh = doc.getElementById(el.id);
      // Keep a reason being typed: swap only when nothing inside has focus.
      if (fresh && !el.contains(document.activeElement)) el.replaceWith(fresh);
    });
    tick();
  };
  const later = () => { pending = pending || setTimeout(refresh, 100); };
  // What no event announces (a clock running late) is looked at now and then.
  const every = live && Number(live.dataset.every);
  if (every) setInterval(later, every * 1000);
  const events = new EventSource("/api/v1/routing/events");
  // A page left (or kept for the back button) gives its connection back:
  // a browser keeps only six open to one server.
  addEventListener("pagehide", () => events.close());
  addEventListener("pageshow", (e) => { if (e.persisted) location.reload(); });
  // A stream that broke and came back may have missed news: look again.
  let opened = false;
  events.addEventListener("open", () => { if (opened && (live || badge)) later(); opened = true; });
  events.addEventListener("routing", (e) => {
    if (live) { later(); return; }
    const who = JSON.parse(e.data).agents || [];
    if (badge && (who.length === 0 || who.includes(Number(badge.dataset.me)))) later();
  });
  events.addEventListener("call", (e) => {
    if (live) later();
    const n = JSON.parse(e.data);
    const to = `/calls/${n.call}`;
    if (!n.mine || n.state === "ended" || location.pathname === to) return;
    // Someone typing keeps their text: they get a link to the call instead.
    const typing = [...document.querySelectorAll("textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])")]
      .some((f) => f.value !== f.defaultValue);
    if (!typing) { location.assign(to); return; }
    if (document.getElementById("call-pop")) return;
    const p = document.createElement("p");
    p.id = "call-pop";
    p.className = "pop";
    p.setAttribute("role", "alert");
    const a = document.createElement("a");
    a.href = to;
    a.textContent = document.documentElement.lang === "zh-CN" ? "来电：打开客户档案" : "Incoming call: open the caller's record";
    p.append(a);
    document.querySelector("main").prepend(p);
  });
}
// Offers count down to the moment they go to someone else; times in a
// state count up.
function tick() {
  document.querySelectorAll("[data-until]").forEach((el) => {
    el.textContent = Math.max(0, Math.round((Date.parse(el.dataset.until) - Date.now()) / 1000));
  });
  document.querySelectorAll("[data-since]").forEach((el) => {
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.since)) / 1000));
    const two = (n) => String(n).padStart(2, "0");
    el.textContent = s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
  });
}
// The wall TV fills the screen (a browser allows it only on a click).
document.addEventListener("click", (e) => {
  if (e.target.closest("[data-fullscreen]")) document.documentElement.requestFullscreen?.();
});
tick();
setInterval(tick, 1000);
