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
