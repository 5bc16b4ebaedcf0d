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
