// Keyboard: "/" focuses the page's search or filter field.
document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) return;
  const field = document.querySelector("#customer-q, .filters input, .filters select");
  if (field) { e.preventDefault(); field.focus(); }
});
// Closing a case asks first: it ends the customer's loop.
document.addEventListener("submit", (e) => {
  const b = e.submitter;
  if (b && b.dataset.action === "close" && !confirm(document.documentElement.lang === "zh-CN" ? "确认关闭工单？" : "Close this case?")) e.preventDefault();
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
// Routing pages: the router's decisions arrive as server-sent events; the
// page fetches itself again and swaps in the parts marked data-live.
if (document.querySelector("[data-live]")) {
  let pending = null;
  const refresh = async () => {
    pending = null;
    const r = await fetch(location.pathname, { credentials: "same-origin" });
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    document.querySelectorAll("[data-live]").forEach((el) => {
      const fresh = doc.getElementById(el.id);
      // Keep a reason being typed: swap only when nothing inside has focus.
      if (fresh && !el.contains(document.activeElement)) el.replaceWith(fresh);
    });
    tick();
  };
  const events = new EventSource("/api/v1/routing/events");
  events.addEventListener("routing", () => { pending = pending || setTimeout(refresh, 100); });
}
// Offers count down to the moment they go to someone else.
function tick() {
  document.querySelectorAll("[data-until]").forEach((el) => {
    el.textContent = Math.max(0, Math.round((Date.parse(el.dataset.until) - Date.now()) / 1000));
  });
}
tick();
setInterval(tick, 1000);
